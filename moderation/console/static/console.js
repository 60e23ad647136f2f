// Moderators' console: keyboard review of a queue page through the JSON review API.
// Comment text is attacker-controlled: this file never assigns innerHTML; everything is built
// with createElement/textContent, and links become clickable only on request and only for http(s).
(function () {
  "use strict";

  const api = "/api/v1/review";
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  const state = readState();
  let rows = Array.from(document.querySelectorAll("article.comment"));
  let current = -1;

  function readState() {
    const node = document.getElementById("queue-state");
    return node ? JSON.parse(node.textContent) : null;
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
    say("Queue page done. Reload for more.");
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
    if (count) count.textContent = allMatching() ? "all " + state.total + " matching selected" : selected().length + " selected";
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
      say("Could not load details: " + err.message, true);
    }
  }

  // The author's earned trust on this site, and the moderator's revoke / restore (audited server-side).
  function renderStanding(commentId, s) {
    const box = el("div", null, "standing");
    const word = s.revoked ? "trust revoked" : (s.trusted ? "trusted" : (s.decided ? "not trusted yet" : "newcomer"));
    const needed = s.min_approved ? s.min_approved + " approved needed" : "earned trust is off: trust.min_approved 0";
    box.appendChild(el("p", "Standing: " + word + " — " + s.approved + " approved, " + s.spam + " spam in " +
      s.window_days + " days (" + needed + ")", "standing-line"));
    const button = el("button", s.revoked ? "Restore trust" : "Revoke trust", "link standing-action");
    button.type = "button";
    button.addEventListener("click", async () => {
      try {
        const out = await call("POST", "/trust", {comment_id: commentId, action: s.revoked ? "restore" : "revoke"});
        box.replaceWith(renderStanding(commentId, out.standing));
        say(s.revoked ? "Trust restored." : "Trust revoked.");
      } catch (err) {
        say("Could not change trust: " + err.message, true);
      }
    });
    box.appendChild(button);
    return box;
  }

  function renderDetail(d) {
    const box = document.createDocumentFragment();
    const counts = Object.entries(d.history_counts || {}).map(([k, v]) => k + " " + v).join(", ");
    box.appendChild(el("h3", "Author history" + (counts ? " (" + counts + ")" : " (none)")));
    const history = el("ul", null, "history");
    (d.history || []).forEach((h) => {
      const li = el("li");
      li.appendChild(el("span", h.status, "badge status-" + h.status));
      li.appendChild(el("span", " " + h.content));
      history.appendChild(li);
    });
    box.appendChild(history);
    if (d.standing) box.appendChild(renderStanding(d.id, d.standing));
    if (d.similar) box.appendChild(el("p", d.similar + " identical comment(s) to this site recently", "similar"));
    if ((d.flags || []).length) {
      box.appendChild(el("h3", "Reader reports"));
      const flags = el("ul");
      d.flags.forEach((f) => flags.appendChild(el("li", f.reason + " by " + f.reporter + (f.note ? ": " + f.note : "") +
        (f.resolved_by ? " (closed by " + f.resolved_by + ")" : ""))));
      box.appendChild(flags);
    }
    box.appendChild(el("h3", "Audit trail"));
    const events = el("ol", null, "events");
    (d.events || []).forEach((e) => events.appendChild(el("li", e.at + " " + e.actor + ": " + e.from + " → " + e.to +
      (e.note ? " — " + e.note : ""))));
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
    const label = {approve: "approved", spam: "spam", reject: "rejected", keep: "kept"}[action];
    const outs = [];
    let chosen = [];
    try {
      if (allMatching() && state.filter) {
        outs.push(await send(Object.assign({action: action, filter: state.filter}, extra || {})));
        document.getElementById("select-all-matching").checked = false;
      } else {
        chosen = targets();
        if (!chosen.length) return say("Nothing selected.", true);
        // One request per status the moderator saw (a queue page has one; 'help the model' mixes them).
        const byStatus = {};
        chosen.forEach((row) => (byStatus[row.dataset.status] = byStatus[row.dataset.status] || []).push(row.dataset.id));
        for (const [status, ids] of Object.entries(byStatus)) {
          outs.push(await send(Object.assign({action: action, ids: ids, expected: status}, extra || {})));
        }
      }
    } catch (err) {
      return say("Not done: " + err.message, true);
    }
    const applied = new Set(outs.flatMap((o) => o.applied));
    const skipped = Object.assign({}, ...outs.map((o) => o.skipped));
    rows.forEach((row) => {
      if (applied.has(row.dataset.id)) mark(row, label + " ✓ (u undoes)", true);
      else if (skipped[row.dataset.id]) mark(row, "skipped: " + skipped[row.dataset.id], false);
    });
    updateSelection();
    if (chosen.length === 1) nextLive();  // one at a time: move on; after a bulk action stay put
    const nSkipped = Object.keys(skipped).length;
    say(label + ": " + applied.size + (nSkipped ? ", skipped " + nSkipped : "") + ". Press u to undo.");
  }

  async function undoLast() {
    try {
      const out = await call("POST", "/undo", lastAction ? {action_id: lastAction} : {});
      lastAction = null;
      const back = new Set(out.applied);
      rows.forEach((row) => { if (back.has(row.dataset.id)) mark(row, "undone", false); });
      const first = rows.findIndex((row) => back.has(row.dataset.id));
      if (first >= 0) focusRow(first);
      say("Undone: " + out.applied.length + " comment(s).");
    } catch (err) {
      say("Undo failed: " + err.message, true);
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
