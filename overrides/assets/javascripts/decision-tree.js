/*
 * Decision tree widget: one question at a time over the server-rendered tree.
 *
 * State is the URL hash "#dtree=<node>/<node>/..." (the node each answer led to, root
 * left out), so a reload or a shared link shows the same path. render() derives
 * everything shown from that hash; clicks only change the hash. A no-JS anchor
 * "#dtree-<node>" is turned into the shortest path to that node. The data comes from
 * the widget's data-dtree-tree attribute the macro writes (macros/decision_tree_widget.py
 * says why not a JSON <script>); nothing is fetched. Text goes in with textContent
 * only, so data strings can never become markup.
 */
(function () {
  "use strict";
  if (window.__dtreeLoaded) return;
  window.__dtreeLoaded = true;

  var PREFIX = "#dtree=";
  // Last path shown per page: a heading anchor replaces the hash, and Material may then
  // swap in fresh page HTML, so the path cannot live on the element.
  var lastPath = {};

  function make(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function answerTo(question, id) {
    return (question.answers || []).filter(function (a) { return a[1] === id; })[0];
  }

  // Breadth-first, so a shared "#dtree-<node>" link gets the shortest path.
  function pathTo(tree, target) {
    var queue = [[tree.root, []]], seen = {};
    while (queue.length) {
      var item = queue.shift(), id = item[0];
      if (id === target) return item[1];
      if (seen[id]) continue;
      seen[id] = true;
      (tree.nodes[id].answers || []).forEach(function (a) {
        queue.push([a[1], item[1].concat(a[1])]);
      });
    }
    return [];
  }

  // The path in the hash, cut at the first step that is no answer of the step before;
  // null when the hash belongs to someone else (a heading anchor: keep the path shown).
  function readState(tree) {
    var hash = location.hash, path = [];
    try { hash = decodeURIComponent(hash); } catch (err) { return path; } // a mangled shared URL
    if (hash.length > 1 && hash.indexOf(PREFIX) !== 0 && hash.indexOf("#dtree-") !== 0) return null;
    if (hash.indexOf(PREFIX) === 0) {
      var at = tree.root;
      hash.slice(PREFIX.length).split("/").some(function (id) {
        if (!answerTo(tree.nodes[at], id)) return true;
        path.push(at = id);
      });
    } else if (Object.prototype.hasOwnProperty.call(tree.nodes, hash.slice(7))) {
      path = pathTo(tree, hash.slice(7));
    }
    return path;
  }

  function go(widget, path) {
    widget.moveFocus = true;
    var hash = path.length ? PREFIX + path.map(encodeURIComponent).join("/") : "";
    // pushState rather than location.hash: no hashchange event, so Material's anchor
    // handling stays out of it; a new history entry, so the browser's Back works too.
    history.pushState(null, "", hash || location.pathname + location.search);
    renderAll();
  }

  function button(cls, label, onClick) {
    var node = make("button", cls, label);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function question(widget, node, path) {
    var set = make("fieldset", "dtree__fieldset");
    set.appendChild(make("legend", "dtree__legend", node.q));
    if (node.help) set.appendChild(make("p", "dtree__help", node.help));
    node.answers.forEach(function (a) {
      set.appendChild(button("dtree__choice", a[0], function () { go(widget, path.concat(a[1])); }));
    });
    return set;
  }

  function recommendation(rec) {
    var box = make("div", "dtree__result dtree__result--" + rec.kind);
    box.appendChild(make("p", "dtree__kind", rec.kindLabel));
    var title = box.appendChild(make("p", "dtree__title", rec.title));
    title.tabIndex = -1;
    if (rec.when) box.appendChild(labelled("dtree__when", "When: ", rec.when));
    if (rec.why) box.appendChild(labelled("dtree__why", "Why: ", rec.why));
    if (rec.commands.length) {
      var code = box.appendChild(make("pre", "dtree__commands")).appendChild(make("code", "", rec.commands.join("\n")));
      code.tabIndex = 0; // a wide command must scroll by keyboard too
    }
    var more = make("a", "", "Read more: " + rec.title);
    more.href = rec.url;
    box.appendChild(make("p", "dtree__more")).appendChild(more);
    return box;
  }

  function labelled(cls, label, text) {
    var p = make("p", cls);
    p.appendChild(make("strong", "", label));
    p.appendChild(document.createTextNode(text));
    return p;
  }

  function render(widget) {
    var tree = widget.tree, path = readState(tree) || lastPath[location.pathname] || [], at = tree.root;
    lastPath[location.pathname] = path;
    var current = tree.nodes[path.length ? path[path.length - 1] : tree.root];
    var steps = path.map(function (id) {
      var li = make("li", "dtree__step", tree.nodes[at].q + " ");
      li.appendChild(make("strong", "", answerTo(tree.nodes[at], id)[0]));
      at = id;
      return li;
    });
    widget.steps.replaceChildren.apply(widget.steps, steps);
    widget.steps.hidden = !steps.length;
    widget.stage.replaceChildren(current.rec ? "" : question(widget, current, path));
    widget.result.replaceChildren(current.rec ? recommendation(current.rec) : "");
    widget.nav.replaceChildren();
    if (path.length) {
      widget.nav.appendChild(button("dtree__back", "Back", function () { go(widget, path.slice(0, -1)); }));
      widget.nav.appendChild(button("dtree__restart", "Start over", function () { go(widget, []); }));
    }
    widget.root.classList.toggle("dtree--done", !!current.rec);
    if (widget.moveFocus) {
      widget.moveFocus = false;
      widget.root.querySelector(".dtree__app .dtree__choice, .dtree__app .dtree__title").focus();
    }
  }

  function mount(root) {
    // Instant navigation may reuse this element with fresh server HTML: check the DOM, not a flag.
    if (root.querySelector(":scope > .dtree__app")) return;
    var widget = root.dtree = { root: root };
    widget.tree = JSON.parse(root.getAttribute("data-dtree-tree"));
    var app = make("div", "dtree__app");
    widget.steps = app.appendChild(make("ol", "dtree__steps"));
    widget.steps.setAttribute("aria-label", "Your answers");
    widget.stage = app.appendChild(make("div", "dtree__stage"));
    // Only the result is live: a new question gets the focus, which already reads it out.
    // The region exists before its content changes, so screen readers announce it.
    widget.result = app.appendChild(make("div", "dtree__live"));
    widget.result.setAttribute("aria-live", "polite");
    widget.nav = app.appendChild(make("div", "dtree__nav"));
    root.insertBefore(app, root.firstChild);
    root.classList.add("dtree--js");
    render(widget);
  }

  function renderAll() {
    document.querySelectorAll("[data-dtree-component]").forEach(function (root) {
      if (root.querySelector(":scope > .dtree__app")) render(root.dtree);
    });
  }

  function mountAll() {
    document.querySelectorAll("[data-dtree-component]").forEach(mount);
  }

  // Browser back/forward and edited URLs; the listener is global, so it is added once.
  window.addEventListener("hashchange", renderAll);
  window.addEventListener("popstate", renderAll);
  // Material's instant navigation swaps pages without reloading scripts: mount on each.
  if (window.document$) window.document$.subscribe(mountAll);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
