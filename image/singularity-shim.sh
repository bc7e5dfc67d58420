#!/bin/sh
# /usr/local/bin/singularity in the test container (ahead of Debian's /usr/bin/singularity).
# LUMI runs SingularityCE, which reads SINGULARITY_* and SINGULARITYENV_* variables silently;
# Apptainer reads them too but prints an INFO line for each. Pass them on under
# Apptainer's names so that output looks as on LUMI; an APPTAINER_* one already set wins.
for var in $(env | sed -n 's/^\(SINGULARITY\(ENV\)\{0,1\}_[A-Za-z0-9_]*\)=.*/\1/p'); do
    new="APPTAINER${var#SINGULARITY}"
    eval "value=\${$var}; set=\${$new+x}"
    [ -n "$set" ] || export "$new=$value"
    unset "$var"
done
exec /usr/bin/singularity "$@"
