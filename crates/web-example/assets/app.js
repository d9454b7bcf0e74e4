// phone-verify web example: the only script. Sends each form once, counts down a retry-after
// and polls a reverse flow; every page works without it except the automatic continuation.
"use strict";

// A form sent disables its buttons, so a double click sends it once; a page shown again from
// the back/forward cache gets them back.
document.querySelectorAll("form").forEach((form) => {
  form.addEventListener("submit", () => {
    form.querySelectorAll("button").forEach((button) => {
      button.disabled = true;
    });
  });
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    document.querySelectorAll("form button").forEach((button) => {
      button.disabled = false;
    });
  }
});

function mmss(total) {
  const s = Math.max(0, Math.round(total));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

document.querySelectorAll("[data-countdown]").forEach((el) => {
  let left = Number(el.dataset.countdown);
  const timer = setInterval(() => {
    left -= 1;
    el.textContent = mmss(left);
    if (left <= 0) {
      clearInterval(timer);
      const line = el.closest(".countdown");
      if (line) line.textContent = "You can try again now.";
    }
  }, 1000);
});

const progress = document.getElementById("progress");
if (progress) {
  const text = document.getElementById("progress-text");
  const remaining = document.getElementById("remaining");
  let checks = 0;
  let deadline = null;
  const tick = () => {
    if (deadline !== null) remaining.textContent = "expires in " + mmss((deadline - Date.now()) / 1000);
  };
  const poll = async () => {
    try {
      const answer = await fetch(progress.dataset.poll, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      const status = await answer.json();
      checks += 1;
      if (status.state === "verified") {
        progress.classList.add("done");
        text.textContent = "Verified! One moment…";
        window.location.assign(status.next);
        return;
      }
      if (status.state === "over") {
        window.location.assign(status.next);
        return;
      }
      if (typeof status.remaining_secs === "number") deadline = Date.now() + status.remaining_secs * 1000;
      text.textContent = "Waiting for your message… (checked " + checks + (checks === 1 ? " time)" : " times)");
    } catch (e) {
      text.textContent = "Connection lost, retrying…";
    }
    setTimeout(poll, 1500);
  };
  setInterval(tick, 1000);
  poll();
}
