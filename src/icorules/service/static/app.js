// The icorules workspace: three pages over the HTTP API, in plain JavaScript.
// Text from bids and rules is only ever set as text (textContent), never as HTML; the report
// is shown in a sandboxed frame that may not run scripts.
"use strict";

var settings = null;
var rules = [];

function $(id) { return document.getElementById(id); }

function el(tag, attrs) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (key) {
    if (key === "text") { node.textContent = attrs[key]; }
    else if (key === "className") { node.className = attrs[key]; }
    else { node.setAttribute(key, attrs[key]); }
  });
  for (var i = 2; i < arguments.length; i++) {
    var child = arguments[i];
    if (child === null || child === undefined) { continue; }
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } return node; }

function option(value, text) { return el("option", {value: value, text: text}); }

function getJson(url) {
  return fetch(url).then(function (r) {
    if (!r.ok) { throw new Error(url + ": " + r.status); }
    return r.json();
  });
}

function contentType(name) {
  if (/\.json$/i.test(name)) { return "application/json"; }
  if (/\.ya?ml$/i.test(name)) { return "application/yaml"; }
  return "text/plain";  // the server works it out from the text
}

// ---- pages -------------------------------------------------------------------------------

function show(page) {
  ["check", "rules", "try"].forEach(function (name) {
    $("page-" + name).hidden = name !== page;
  });
  document.querySelectorAll("nav a").forEach(function (a) {
    a.classList.toggle("current", a.dataset.page === page);
    if (a.dataset.page === page) { a.setAttribute("aria-current", "page"); }
    else { a.removeAttribute("aria-current"); }
  });
}

function route() {
  var page = (location.hash || "#check").slice(1).split("/")[0];
  show(["check", "rules", "try"].indexOf(page) >= 0 ? page : "check");
}

// ---- located problems --------------------------------------------------------------------

function problemList(problems, onPick) {
  var list = el("ul");
  problems.forEach(function (p) {
    var where = p.file + (p.line ? ":" + p.line + (p.column ? ":" + p.column : "") : "");
    var loc = onPick && p.line ? el("a", {href: "#", className: "loc", text: where}) : el("span", {className: "loc", text: where});
    if (onPick && p.line) {
      loc.addEventListener("click", function (event) { event.preventDefault(); onPick(p.line, p.column); });
    }
    list.appendChild(el("li", {}, loc, " ", p.message));
  });
  return list;
}

// ---- Check a bid -------------------------------------------------------------------------

var checkName = "";

function setupCheck() {
  settings.markets.forEach(function (m) { $("check-market").appendChild(option(m.name, m.name)); });
  settings.waivers.forEach(function (w) { $("check-waivers").appendChild(option(w.name, w.name)); });
  $("check-fail-on").value = settings.fail_on;
  if (settings.examples.length === 0) { $("check-example-label").hidden = true; }
  settings.examples.forEach(function (name) { $("check-example").appendChild(option(name, name)); });
  $("check-file").addEventListener("change", function () {
    var file = $("check-file").files[0];
    if (!file) { return; }
    file.text().then(function (text) { setBid(file.name, text); runCheck(); });
  });
  $("check-example").addEventListener("change", function () {
    var name = $("check-example").value;
    if (!name) { return; }
    fetch("/v1/examples/" + encodeURIComponent(name)).then(function (r) { return r.text(); })
      .then(function (text) { setBid(name, text); runCheck(); });
  });
  $("check-text").addEventListener("input", function () { if (checkName && !checkName.startsWith("pasted")) { checkName = "pasted bid"; $("check-name").textContent = ""; } });
  $("check-run").addEventListener("click", runCheck);
  ["check-market", "check-waivers", "check-fail-on"].forEach(function (id) {
    $(id).addEventListener("change", function () { if ($("check-text").value.trim()) { runCheck(); } });
  });
  $("check-report").addEventListener("load", fitReport);
}

function setBid(name, text) {
  checkName = name;
  $("check-name").textContent = "(" + name + ")";
  $("check-text").value = text;
}

function runCheck() {
  var text = $("check-text").value;
  if (!text.trim()) { $("check-status").textContent = "Upload, paste or choose a bid first."; return; }
  var name = checkName || "pasted bid";
  var query = new URLSearchParams({format: "html", filename: name, fail_on: $("check-fail-on").value});
  if ($("check-market").value) { query.set("market", $("check-market").value); }
  if ($("check-waivers").value) { query.set("waivers", $("check-waivers").value); }
  $("check-status").textContent = "Checking…";
  $("check-run").disabled = true;
  fetch("/v1/check?" + query.toString(), {method: "POST", headers: {"Content-Type": contentType(name)}, body: text})
    .then(function (r) {
      return r.text().then(function (body) { return {status: r.status, body: body, verdict: r.headers.get("X-Icorules-Verdict")}; });
    })
    .then(function (answer) {
      var box = clear($("check-problems"));
      if (answer.status === 200) {
        box.hidden = true;
        $("check-report").hidden = false;
        $("check-report").srcdoc = answer.body;
        $("check-status").textContent = answer.verdict === "fail" ? "Checked: does not pass." : "Checked: passes.";
      } else {
        $("check-report").hidden = true;
        box.hidden = false;
        var problems = [];
        try { problems = JSON.parse(answer.body).problems || []; } catch (e) { problems = []; }
        if (problems.length) {
          box.appendChild(el("p", {text: "The bid could not be checked:"}));
          box.appendChild(problemList(problems, function (line) { goToLine($("check-text"), line); }));
        } else {
          var error = "";
          try { error = JSON.parse(answer.body).error; } catch (e) { error = answer.body; }
          box.appendChild(el("p", {text: "Something went wrong on the server: " + error}));
        }
        $("check-status").textContent = "";
      }
    })
    .catch(function (error) { $("check-status").textContent = "Could not reach the server: " + error.message; })
    .finally(function () { $("check-run").disabled = false; });
}

function fitReport() {
  var frame = $("check-report");
  try {
    var doc = frame.contentDocument;
    if (doc && doc.documentElement) { frame.style.height = (doc.documentElement.scrollHeight + 20) + "px"; }
  } catch (e) { /* a frame we may not measure keeps its height */ }
}

function goToLine(textarea, line) {
  var lines = textarea.value.split("\n");
  var start = 0;
  for (var i = 0; i < line - 1 && i < lines.length; i++) { start += lines[i].length + 1; }
  textarea.focus();
  textarea.setSelectionRange(start, start + (lines[line - 1] || "").length);
  var lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 18;
  textarea.scrollTop = Math.max(0, (line - 4) * lineHeight);
}

// ---- Browse rules ------------------------------------------------------------------------

function setupRules() {
  var body = $("rules-table").tBodies[0];
  rules.forEach(function (rule) {
    var row = el("tr", {"data-rule": rule.id, tabindex: "0"},
      el("td", {}, el("strong", {text: rule.id})),
      el("td", {}, el("span", {className: "sev " + rule.severity, text: rule.severity})),
      el("td", {text: rule.title}));
    row.addEventListener("click", function () { showRule(rule.id); });
    row.addEventListener("keydown", function (event) { if (event.key === "Enter") { showRule(rule.id); } });
    body.appendChild(row);
  });
  $("rules-filter").addEventListener("input", filterRules);
  filterRules();
  var match = /^#rules\/(.+)$/.exec(location.hash);
  if (match) { showRule(decodeURIComponent(match[1])); }
}

function filterRules() {
  var words = $("rules-filter").value.toLowerCase().split(/\s+/).filter(Boolean);
  var shown = 0;
  rules.forEach(function (rule) {
    var haystack = [rule.id, rule.title, rule.source, rule.fires_when, rule.ruleset].join(" ").toLowerCase();
    var visible = words.every(function (w) { return haystack.indexOf(w) >= 0; });
    document.querySelector('tr[data-rule="' + rule.id + '"]').hidden = !visible;
    shown += visible ? 1 : 0;
  });
  $("rules-count").textContent = shown + " of " + rules.length + " rules";
}

function showRule(id) {
  document.querySelectorAll("#rules-table tr.chosen").forEach(function (tr) { tr.classList.remove("chosen"); });
  var row = document.querySelector('tr[data-rule="' + id + '"]');
  if (row) { row.classList.add("chosen"); }
  getJson("/v1/rules/" + encodeURIComponent(id)).then(function (rule) {
    var box = clear($("rule-detail"));
    box.appendChild(el("h3", {}, rule.id + " ", el("span", {className: "sev " + rule.severity, text: rule.severity})));
    box.appendChild(el("p", {}, el("strong", {text: rule.title})));
    var facts = el("dl", {className: "facts"});
    function fact(label, value) { facts.appendChild(el("dt", {text: label})); facts.appendChild(el("dd", {}, value)); }
    fact("Source", rule.source);
    fact("About", "each '" + rule.fact + "' fact" + (rule.needs_market ? " (needs a market file)" : ""));
    rule.given.forEach(function (g) { fact("Only when", "a '" + g.fact + "' fact has: " + g.in_words); });
    fact("Fires when", rule.fires_when);
    fact("Condition", el("code", {text: rule.condition}));
    if (rule.parameters.length) {
      var list = el("ul");
      rule.parameters.forEach(function (p) {
        list.appendChild(el("li", {}, el("code", {text: p.name}), " = ", el("strong", {text: showValue(p.value)}),
          p.meaning ? " — " + p.meaning : ""));
      });
      fact("Parameters", list);
    }
    if (rule.reads.length) {
      var reads = el("ul");
      rule.reads.forEach(function (r) {
        reads.appendChild(el("li", {}, el("code", {text: r.fact + "." + r.field}), " (" + r.type + ")" + (r.meaning ? ": " + r.meaning : "")));
      });
      fact("Reads", reads);
    }
    fact("Message", rule.message);
    fact("Fix", rule.fix);
    fact("Ruleset", rule.ruleset + " " + rule.version + " (" + rule.file + (rule.line ? ":" + rule.line : "") + ")");
    box.appendChild(facts);
    var tryIt = el("button", {type: "button", text: "Try a change to this rule"});
    tryIt.addEventListener("click", function () { location.hash = "#try"; startFrom(rule.id); });
    box.appendChild(tryIt);
  });
}

function showValue(value) {
  if (Array.isArray(value)) { return value.map(showValue).join(", "); }
  if (typeof value === "number" && value > 0 && value < 1) { return value + " (" + Math.round(value * 1000) / 10 + "%)"; }
  return String(value);
}

// ---- Try a rule --------------------------------------------------------------------------

var trySeq = 0;
var tryTimer = null;

function setupTry() {
  rules.forEach(function (rule) { $("try-start").appendChild(option(rule.id, rule.id + " " + rule.title)); });
  settings.markets.forEach(function (m) { $("try-market").appendChild(option(m.name, m.name)); });
  var box = $("try-examples");
  if (settings.examples.length === 0) {
    box.appendChild(el("p", {className: "muted", text: "The server offers no example bids (icorules serve --examples DIR); paste one below."}));
  }
  settings.examples.forEach(function (name) {
    var input = el("input", {type: "checkbox", value: name});
    input.checked = true;
    input.addEventListener("change", scheduleTry);
    box.appendChild(el("label", {}, input, " " + name));
  });
  $("try-start").addEventListener("change", function () { if ($("try-start").value) { startFrom($("try-start").value); } });
  $("try-text").addEventListener("input", scheduleTry);
  $("try-bid").addEventListener("input", scheduleTry);
  $("try-market").addEventListener("change", scheduleTry);
  $("try-download").addEventListener("click", download);
}

function startFrom(id) {
  $("try-start").value = id;
  fetch("/v1/rules/" + encodeURIComponent(id) + "/draft").then(function (r) { return r.text(); })
    .then(function (text) { $("try-text").value = text; runTry(); });
}

function scheduleTry() {
  clearTimeout(tryTimer);
  tryTimer = setTimeout(runTry, 400);
}

function runTry() {
  var text = $("try-text").value;
  if (!text.trim()) { return; }
  var seq = ++trySeq;
  var examples = Array.prototype.slice.call(document.querySelectorAll("#try-examples input:checked"))
    .map(function (input) { return input.value; });
  var request = {ruleset: text, examples: examples, proposal: $("try-bid").value || null, market: $("try-market").value || null};
  $("try-result").setAttribute("aria-busy", "true");
  fetch("/v1/try", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(request)})
    .then(function (r) { return r.json(); })
    .then(function (answer) { if (seq === trySeq) { showTry(answer); } })
    .catch(function (error) { if (seq === trySeq) { clear($("try-result")).appendChild(el("p", {text: "Could not reach the server: " + error.message})); } })
    .finally(function () { if (seq === trySeq) { $("try-result").removeAttribute("aria-busy"); } });
}

function showTry(answer) {
  var box = clear($("try-result"));
  var pick = function (line) { goToLine($("try-text"), line); };
  if (answer.error) { box.appendChild(el("p", {className: "problems", text: "Something went wrong on the server: " + answer.error})); return; }
  if (!answer.loads) {
    var bad = el("div", {className: "problems", id: "try-problems"}, el("strong", {text: "The draft does not load"}));
    bad.appendChild(problemList(answer.problems || [], pick));
    box.appendChild(bad);
  } else {
    box.appendChild(el("div", {className: "ok", id: "try-loads"}, el("strong", {text: "The draft loads: "}),
      answer.rules.map(function (r) { return r.id; }).join(", ")));
  }
  if (answer.lint && answer.lint.length) {
    var lint = el("div", {className: "lint", id: "try-lint"}, el("strong", {text: "Lint: " + answer.lint.length + " thing(s) to look at"}));
    var list = el("ul");
    answer.lint.forEach(function (f) {
      var loc = el("a", {href: "#", className: "loc", text: "line " + f.line});
      loc.addEventListener("click", function (event) { event.preventDefault(); pick(f.line); });
      list.appendChild(el("li", {}, loc, " ", el("code", {text: f.code}), " " + f.message));
    });
    lint.appendChild(list);
    box.appendChild(lint);
  } else if (answer.loads) {
    box.appendChild(el("p", {className: "muted", text: "Lint finds nothing to look at."}));
  }
  if (!answer.loads) { return; }
  answer.rules.forEach(function (r) {
    box.appendChild(el("p", {}, el("strong", {text: r.id}), " fires when " + r.fires_when + "."));
  });
  var results = el("div", {id: "try-results"});
  var firing = answer.results.filter(function (b) { return b.fired.length; }).length;
  results.appendChild(el("h3", {text: "Fires on " + firing + " of " + answer.results.length + " bid(s)"}));
  var ordered = answer.results.filter(function (b) { return b.fired.length || b.problems.length; })
    .concat(answer.results.filter(function (b) { return !(b.fired.length || b.problems.length); }));
  ordered.forEach(function (bid) {
    var part = el("div", {className: "bid", "data-bid": bid.bid});
    var head = el("p", {}, el("strong", {text: bid.bid}), bid.name ? " — " + bid.name + " " : " ");
    if (bid.problems.length) {
      head.appendChild(el("span", {className: "fires", text: "cannot be read"}));
      part.appendChild(head);
      part.appendChild(problemList(bid.problems));
    } else if (bid.fired.length) {
      head.appendChild(el("span", {className: "fires", text: "fires " + bid.fired.length + " time(s)"}));
      part.appendChild(head);
      var rest = bid.fired.length > 3 ? el("details", {}, el("summary", {text: "and " + (bid.fired.length - 3) + " more"})) : null;
      bid.fired.forEach(function (f, i) {
        var into = i < 3 ? part : rest;
        into.appendChild(el("p", {}, el("span", {className: "sev " + f.severity, text: f.severity}), " ",
          el("strong", {text: f.rule}), " at ", el("code", {text: f.subject.path || "the bid as a whole"}), ": " + f.message));
        if (f.explanation) { into.appendChild(el("pre", {className: "explain", text: f.explanation.join("\n")})); }
      });
      if (rest) { part.appendChild(rest); }
    } else if (bid.not_evaluated && bid.not_evaluated.length) {
      head.appendChild(el("span", {className: "muted", text: "not evaluated (choose a market)"}));
      part.appendChild(head);
    } else {
      head.appendChild(el("span", {className: "quiet", text: "does not fire"}));
      part.appendChild(head);
    }
    if (bid.not_fired && bid.not_fired.length) {
      var more = el("details", {}, el("summary", {text: "Why not on the other " + bid.not_fired.length + " subject(s)"}));
      bid.not_fired.forEach(function (n) {
        more.appendChild(el("p", {}, el("strong", {text: n.rule}), n.subject ? " on " + n.subject.id + (n.subject.name ? " (" + n.subject.name + ")" : "") : ""));
        more.appendChild(el("pre", {className: "explain", text: n.lines.join("\n")}));
      });
      part.appendChild(more);
    }
    results.appendChild(part);
  });
  box.appendChild(results);
  box.appendChild(el("p", {className: "muted", text: "Run on the reference engine (the same findings as durable_rules) in " + answer.elapsed_ms + " ms."}));
}

function download() {
  var text = $("try-text").value;
  var name = (/^ruleset:\s*(\S+)/m.exec(text) || [null, "draft"])[1].replace(/[^A-Za-z0-9_.-]+/g, "-") + ".yaml";
  var link = el("a", {href: URL.createObjectURL(new Blob([text], {type: "application/yaml"})), download: name});
  document.body.appendChild(link);
  link.click();
  setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
}

// ---- start -------------------------------------------------------------------------------

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", function () {
  route();
  Promise.all([getJson("/v1/settings"), getJson("/v1/rules")]).then(function (found) {
    settings = found[0];
    rules = found[1];
    $("about").textContent = settings.rules + " rules from " +
      settings.rulesets.map(function (r) { return r.name + " " + r.version; }).join(", ") + ".";
    setupCheck();
    setupRules();
    setupTry();
    document.body.dataset.ready = "true";
  }).catch(function (error) {
    $("about").textContent = "The workspace could not load its settings: " + error.message;
  });
});
