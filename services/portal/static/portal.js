// mynacar staff screens: the few things a page cannot do without script. Every page works without
// it, except that results entered on the crew's tablet without signal need it to wait and be sent.
"use strict";

// Enter in a field of a form with several buttons saves (the default action), rather than
// pressing whichever button comes first (e.g. "add an applicant"). Not while an IME is composing.
document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (event.key !== "Enter" || event.isComposing || !(field instanceof HTMLInputElement) || !field.form) return;
  const save = field.form.querySelector("[data-default-action]");
  if (save && !["submit", "checkbox", "radio"].includes(field.type)) {
    event.preventDefault();
    save.click();
  }
});

// A print button (the 持ち物 page): shown only where script can print; the browser's own print works too.
for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}

// --- The crew's tablet: results kept on the tablet while there is no signal ----------------------
const QUEUE = "mynacar-result-queue";

function queued() {
  try {
    return JSON.parse(localStorage.getItem(QUEUE) || "[]");
  } catch {
    return [];
  }
}

function keep(items) {
  localStorage.setItem(QUEUE, JSON.stringify(items));
}

function report(extra) {
  const box = document.getElementById("offline-status");
  if (!box) return;
  const count = queued().length;
  const text = count
    ? `未送信の結果が${count}件あります。電波が戻ったら自動で送信します。${extra || ""}`
    : extra || "";
  box.hidden = !text;
  box.textContent = text;
}

function csrfToken() {
  const field = document.querySelector("input[name=csrf_token]");
  return field ? field.value : "";
}

// Sends one kept result. Each carries its own key (result_id): sent twice, it is recorded once.
async function send(item) {
  const body = new URLSearchParams(item.fields);
  const token = csrfToken(); // this page's session: the one the result was typed in may have ended
  if (token) body.set("csrf_token", token);
  const response = await fetch(item.action, { method: "POST", body, credentials: "same-origin" });
  if (response.status === 409) return true; // recorded already
  return response.ok && new URL(response.url).pathname === "/crew/day"; // a sign-in page: not yet
}

let flushing = false;
async function flush() {
  const items = queued();
  if (flushing || !items.length || !navigator.onLine) {
    report();
    return;
  }
  flushing = true;
  const left = [];
  for (const item of items) {
    try {
      if (!(await send(item))) left.push(item);
    } catch {
      left.push(item);
    }
  }
  keep(left);
  flushing = false;
  if (left.length < items.length) {
    location.reload();
  } else {
    report("（ログインし直すと送信できる場合があります）");
  }
}

function queue(form) {
  const items = queued();
  items.push({ action: form.action, fields: Object.fromEntries(new FormData(form).entries()) });
  keep(items);
  const details = form.closest("details");
  if (details) details.open = false;
  report();
}

// Signing out clears what the tablet keeps; results not yet sent would be lost with it.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.action.endsWith("/signout") && queued().length) {
    if (!window.confirm("まだ送信していない訪問の結果があります。ログアウトすると消えます。ログアウトしますか？")) {
      event.preventDefault();
    }
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches("[data-offline-queue]")) return;
  event.preventDefault();
  if (!navigator.onLine) {
    queue(form);
    return;
  }
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    });
    if (response.redirected && response.ok) {
      location.assign(response.url);
    } else {
      document.open();
      document.write(await response.text());
      document.close();
    }
  } catch {
    queue(form); // the signal dropped on the way
  }
});

window.addEventListener("online", flush);
window.addEventListener("load", () => {
  if (location.pathname.startsWith("/crew/") && "serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
  }
  flush();
});
