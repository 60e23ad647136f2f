// Moderators' console: keyboard review of a queue page through the JSON review API.
// Comment text is attacker-controlled: this file never assigns innerHTML; everything is built
// with createElement/textContent, and links become clickable only on request and only for http(s).
(function () {
  "use strict";

  const api = "/api/v1/review";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const state = readState();
  const messages = readMessages();
  let rows = Array.from(document.querySelectorAll("article.comment"));
  let current = -1;

  function readState() {
    const node = document.getElementById("queue-state");
    return node ? JSON.parse(node.textContent) : null;
  }

  function readMessages() {
    const node = document.getElementById("messages");
    return node ? JSON.parse(node.textContent) : {};
  }

  // A message of the page's language (from the server's catalogue), with %(name)s filled from params.
  function t(key, params) {
    const text = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    return text.replace(/%\((\w+)\)s/g, (all, name) => (params && name in params ? String(params[name]) : all));
  }

  function word(kind, code) {
    const key = kind + "_" + code;
    return Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : code;
  }

  function say(message, isError) {
    const box = document.getElementById("status");
    if (!box) return;
    box.textContent = message;
    box.classList.toggle("error", Boolean(isError));
  }

  async function call(method, path, body) {
    const response = await fetch(api + path, {
      method: method,
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = (data.error && data.error.message) || response.statusText;
      throw new Error(message);
    }
    return data;
  }

  // ---- focus and selection -------------------------------------------------------------------
  function live() {
    return rows.filter((row) => !row.classList.contains("done"));
  }

  function focusRow(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(index, rows.length - 1));
    rows.forEach((row, i) => row.classList.toggle("current", i === current));
    const row = rows[current];
    row.focus({preventScroll: true});
    row.scrollIntoView({block: "nearest"});
    loadDetail(row);
  }

  function move(step) {
    if (current < 0) return focusRow(0);
    focusRow(current + step);
  }

  function nextLive() {
    for (let i = current + 1; i < rows.length; i++) if (!rows[i].classList.contains("done")) return focusRow(i);
    for (let i = 0; i < rows.length; i++) if (!rows[i].classList.contains("done")) return focusRow(i);
    say(t("queue_done"));
  }

  function selected() {
    return rows.filter((row) => row.querySelector("input.select").checked && !row.classList.contains("done"));
  }

  function allMatching() {
    const box = document.getElementById("select-all-matching");
    return Boolean(box && box.checked);
  }

  function updateSelection() {
    const count = document.getElementById("selection-count");
    if (count) count.textContent = allMatching() ? t("all_selected", {n: state.total}) : t("selected", {n: selected().length});
    rows.forEach((row) => row.classList.toggle("selected", row.querySelector("input.select").checked));
  }

  function toggleSelect() {
    if (current < 0) return;
    const box = rows[current].querySelector("input.select");
    box.checked = !box.checked;
    updateSelection();
  }

  // ---- detail panel (history, audit trail, reports) ---------------------------------------------
  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  async function loadDetail(row) {
    const panel = row.querySelector(".detail");
    if (!panel || panel.dataset.loaded) return;
    panel.dataset.loaded = "1";
    try {
      const d = await call("GET", "/comments/" + encodeURIComponent(row.dataset.id));
      panel.replaceChildren(renderDetail(d));
      panel.hidden = false;
    } catch (err) {
      panel.dataset.loaded = "";
      say(t("load_failed", {error: err.message}), true);
    }
  }

  // Data (what readers, sites and moderators wrote) goes in translate="no" spans; the words around it are ours.
  function data(text) {
    const node = el("span", text, "data");
    node.setAttribute("translate", "no");
    return node;
  }

  function time(local, iso) {
    const node = el("time", local ? local.ago : iso);
    if (iso) node.dateTime = iso;
    if (local) node.title = local.exact;
    return node;
  }

  // The author's earned trust on this site, and the moderator's revoke / restore (audited server-side).
  function renderStanding(commentId, s) {
    const box = el("div", null, "standing");
    const word = t(s.revoked ? "trust_revoked" : (s.trusted ? "trust_trusted" : (s.decided ? "trust_not_yet" : "trust_newcomer")));
    const needed = s.min_approved ? t("trust_needed", {n: s.min_approved}) : t("trust_off");
    box.appendChild(el("p", t("trust_line", {word: word, approved: s.approved, spam: s.spam, days: s.window_days,
      needed: needed}), "standing-line"));
    const button = el("button", t(s.revoked ? "trust_restore" : "trust_revoke"), "link standing-action");
    button.type = "button";
    button.addEventListener("click", async () => {
      try {
        const out = await call("POST", "/trust", {comment_id: commentId, action: s.revoked ? "restore" : "revoke"});
        box.replaceWith(renderStanding(commentId, out.standing));
        say(t(s.revoked ? "trust_restored" : "trust_revoked_done"));
      } catch (err) {
        say(t("trust_failed", {error: err.message}), true);
      }
    });
    box.appendChild(button);
    return box;
  }

  function renderDetail(d) {
    const box = document.createDocumentFragment();
    const counts = Object.entries(d.history_counts || {}).map(([k, v]) => word("status", k) + " " + v).join(", ");
    box.appendChild(el("h3", t("history") + " (" + (counts || t("history_none")) + ")"));
    const history = el("ul", null, "history");
    (d.history || []).forEach((h) => {
      const li = el("li");
      li.appendChild(el("span", h.status_word || h.status, "badge status-" + h.status));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(time(h.received_local, h.received_at));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(data(h.content));
      history.appendChild(li);
    });
    box.appendChild(history);
    if (d.standing) box.appendChild(renderStanding(d.id, d.standing));
    if (d.similar) box.appendChild(el("p", t("identical", {n: d.similar}), "similar"));
    if ((d.flags || []).length) {
      box.appendChild(el("h3", t("reports")));
      const flags = el("ul");
      d.flags.forEach((f) => {
        const li = el("li");
        li.appendChild(time(f.at_local, f.at));
        li.appendChild(document.createTextNode(" " + word("flag", f.reason) + " · "));
        li.appendChild(data(f.reporter));
        if (f.note) { li.appendChild(document.createTextNode(": ")); li.appendChild(data(f.note)); }
        if (f.resolved_by) {
          li.appendChild(document.createTextNode(" (" + t("closed_by") + " "));
          li.appendChild(data(f.resolved_by));
          li.appendChild(document.createTextNode(")"));
        }
        flags.appendChild(li);
      });
      box.appendChild(flags);
    }
    box.appendChild(el("h3", t("trail")));
    const events = el("ol", null, "events");
    (d.events || []).forEach((e) => {
      const li = el("li");
      li.appendChild(time(e.at_local, e.at));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(data(e.actor));
      li.appendChild(document.createTextNode(": " + (e.from_word || e.from) + " → " + (e.to_word || e.to)));
      if (e.note) { li.appendChild(document.createTextNode(" — ")); li.appendChild(data(e.note)); }
      events.appendChild(li);
    });
    box.appendChild(events);
    return box;
  }

  // ---- links, on request only -----------------------------------------------------------------
  function safeHref(text) {
    try {
      const url = new URL(/^www\./i.test(text) ? "https://" + text : text);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  function showLinks(row) {
    row.querySelectorAll("code.link-text").forEach((code) => {
      const href = safeHref(code.textContent);
      if (!href) return;
      const a = el("a", code.textContent);
      a.href = href;
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
      a.referrerPolicy = "no-referrer";
      code.replaceWith(a);
    });
  }

  // ---- actions --------------------------------------------------------------------------------
  let lastAction = null;

  function targets() {
    const chosen = selected();
    if (chosen.length) return chosen;
    return current >= 0 && !rows[current].classList.contains("done") ? [rows[current]] : [];
  }

  function mark(row, text, done) {
    row.classList.toggle("done", done);
    row.querySelector(".outcome").textContent = text;
    const box = row.querySelector("input.select");
    if (done) box.checked = false;
  }

  async function send(body) {
    const out = await call("POST", "/actions", body);
    lastAction = out.action_id || lastAction;
    return out;
  }

  async function act(action, extra) {
    if (!state) return;
    const label = t(action);
    const outs = [];
    let chosen = [];
    try {
      if (allMatching() && state.filter) {
        outs.push(await send(Object.assign({action: action, filter: state.filter}, extra || {})));
        document.getElementById("select-all-matching").checked = false;
      } else {
        chosen = targets();
        if (!chosen.length) return say(t("nothing_selected"), true);
        // One request per status the moderator saw (a queue page has one; 'help the model' mixes them).
        const byStatus = {};
        chosen.forEach((row) => (byStatus[row.dataset.status] = byStatus[row.dataset.status] || []).push(row.dataset.id));
        for (const [status, ids] of Object.entries(byStatus)) {
          outs.push(await send(Object.assign({action: action, ids: ids, expected: status}, extra || {})));
        }
      }
    } catch (err) {
      return say(t("not_done", {error: err.message}), true);
    }
    const applied = new Set(outs.flatMap((o) => o.applied));
    const skipped = Object.assign({}, ...outs.map((o) => o.skipped));
    rows.forEach((row) => {
      if (applied.has(row.dataset.id)) mark(row, t("done_" + action), true);
      else if (skipped[row.dataset.id]) mark(row, t("skipped", {why: skipped[row.dataset.id]}), false);
    });
    updateSelection();
    if (chosen.length === 1) nextLive();  // one at a time: move on; after a bulk action stay put
    const nSkipped = Object.keys(skipped).length;
    say(nSkipped ? t("summary_skipped", {what: label, n: applied.size, skipped: nSkipped})
                 : t("summary", {what: label, n: applied.size}));
  }

  async function undoLast() {
    try {
      const out = await call("POST", "/undo", lastAction ? {action_id: lastAction} : {});
      lastAction = null;
      const back = new Set(out.applied);
      rows.forEach((row) => { if (back.has(row.dataset.id)) mark(row, t("undone"), false); });
      const first = rows.findIndex((row) => back.has(row.dataset.id));
      if (first >= 0) focusRow(first);
      say(t("undone_n", {n: out.applied.length}));
    } catch (err) {
      say(t("undo_failed", {error: err.message}), true);
    }
  }

  function askReject() {
    const dialog = document.getElementById("reject-dialog");
    if (!dialog) return act("reject", {reject_as: "other"});
    document.getElementById("reject-note").value = "";
    dialog.showModal();
    document.getElementById("reject-note").focus();
  }

  function primary() {
    return state && state.queue === "reported" ? "keep" : "approve";
  }

  function toggleHelp() {
    const dialog = document.getElementById("help-dialog");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  // ---- wiring ---------------------------------------------------------------------------------
  function typing(target) {
    return target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (document.querySelector("dialog[open]") && event.key !== "?") return;
    const keys = {
      j: () => move(1), k: () => move(-1), x: toggleSelect, a: () => act(primary()), s: () => act("spam"),
      r: askReject, u: undoLast, "?": toggleHelp, l: () => current >= 0 && showLinks(rows[current]),
    };
    const handler = keys[event.key];
    if (handler && rows.length + (event.key === "?" || event.key === "u" ? 1 : 0)) {
      event.preventDefault();
      handler();
    }
  });

  const rejectForm = document.getElementById("reject-form");
  if (rejectForm) {
    rejectForm.addEventListener("submit", (event) => {
      event.preventDefault();
      document.getElementById("reject-dialog").close();
      const note = document.getElementById("reject-note").value.trim();
      act("reject", {reject_as: document.getElementById("reject-as").value, note: note || null});
    });
  }

  document.querySelectorAll("[data-act]").forEach((button) => button.addEventListener("click", () => {
    const what = button.dataset.act;
    if (what === "approve") act(primary());
    else if (what === "spam") act("spam");
    else if (what === "reject") askReject();
    else if (what === "undo") undoLast();
    else if (what === "help") toggleHelp();
  }));

  rows.forEach((row, i) => {
    row.querySelector("input.select").addEventListener("change", updateSelection);
    row.addEventListener("click", (event) => { if (event.target.tagName !== "INPUT") focusRow(i); });
    const button = row.querySelector("button.show-links");
    if (button) button.addEventListener("click", () => showLinks(row));
  });
  const all = document.getElementById("select-all-matching");
  if (all) all.addEventListener("change", updateSelection);

  document.querySelectorAll("form.confirm").forEach((form) => form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  }));

  if (rows.length) focusRow(0);
})();
