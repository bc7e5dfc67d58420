"""How the test node's EasyBuild-user module configures the real EasyBuild, as LUMI's does.

`easybuild_user_lua()` gives the Lua lines the EasyBuild-user modulefile adds: `eb` (EasyBuild
from PyPI, installed by customize.sh) on PATH, and EASYBUILD_* settings that install
into $EBU_USER_PREFIX (default $HOME/EasyBuild) by the loaded stack and partition,
as LUMI's EasyBuild-user does: software in SW/LUMI-<version>/<partition> (SW/container
for partition/container), modules in modules/LUMI/<version>/partition/<partition>
(modules/container), where the stack modules look for them. The recipes it finds
by name are the node's own (EASYCONFIG_DIR, written by the layer from the snapshot).
"""

EB_BIN = "/opt/lumi-node/easybuild/bin"
EB_PYTHON = "/opt/lumi-node/easybuild/venv/bin/python3"
EASYCONFIG_DIR = "/appl/lumi/node/easyconfigs"
EASYBUILD_VERSION = "5.4.1"  # as pinned in customize.sh
# A hidden module (its version starts with a dot) in each stack, as LUMI's EasyBuild-user
# loads an EasyBuild module; hidden, as the snapshot does not list it.
EASYBUILD_MODULE = f"EasyBuild/.{EASYBUILD_VERSION}"


def easybuild_user_load():
    """The line EasyBuild-user adds: load the EasyBuild module."""
    return f'load("{EASYBUILD_MODULE}")\n'


def easybuild_module_lua():
    """Lua lines of the EasyBuild module that EasyBuild-user loads."""
    return f"""prepend_path("PATH", "{EB_BIN}")
-- eb looks for a python command on PATH unless told which Python has EasyBuild.
setenv("EB_PYTHON", "{EB_PYTHON}")
-- Read, never set: unloading this module must not take EBU_USER_PREFIX away.
local prefix = os.getenv("EBU_USER_PREFIX") or pathJoin(os.getenv("HOME"), "EasyBuild")
local stack = os.getenv("LUMI_STACK_VERSION")
local partition = os.getenv("LUMI_STACK_PARTITION") or "L"
local software, modules
if partition == "container" then
   software = pathJoin(prefix, "SW", "container")
   modules = pathJoin(prefix, "modules", "container")
elseif stack then
   software = pathJoin(prefix, "SW", "LUMI-" .. stack, partition)
   modules = pathJoin(prefix, "modules", "LUMI", stack, "partition", partition)
else
   software = pathJoin(prefix, "SW", "CrayEnv")
   modules = pathJoin(prefix, "modules", "CrayEnv")
end
setenv("EASYBUILD_PREFIX", prefix)
setenv("EASYBUILD_INSTALLPATH_SOFTWARE", software)
setenv("EASYBUILD_INSTALLPATH_MODULES", modules)
setenv("EASYBUILD_SUFFIX_MODULES_PATH", "")
setenv("EASYBUILD_SOURCEPATH", pathJoin(prefix, "sources"))
setenv("EASYBUILD_REPOSITORYPATH", pathJoin(prefix, "ebrepo_files"))
setenv("EASYBUILD_BUILDPATH", pathJoin("/tmp", os.getenv("USER") or "user", "easybuild", "build"))
setenv("EASYBUILD_TMPDIR", pathJoin("/tmp", os.getenv("USER") or "user", "easybuild", "tmp"))
setenv("EASYBUILD_ROBOT_PATHS", "{EASYCONFIG_DIR}")
setenv("EASYBUILD_MODULES_TOOL", "Lmod")
setenv("EASYBUILD_MODULE_SYNTAX", "Lua")
"""
