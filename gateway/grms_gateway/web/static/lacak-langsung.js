// Live tracking of a complaint (/pengaduan/lacak): follows the server-sent events of
// /pengaduan/lacak/{ticket}/events and updates the status, the time and the public replies
// in place. No framework, no external asset; without script the page still shows the status.
(function () {
  "use strict";
  var section = document.getElementById("tracked");
  if (!section || !window.EventSource) { return; }
  var url = section.getAttribute("data-events");
  if (!url) { return; }
  var statusEl = document.getElementById("tracked-status");
  var updatedEl = document.getElementById("tracked-updated");
  var repliesEl = document.getElementById("tracked-replies");
  var noRepliesEl = document.getElementById("tracked-no-replies");
  var liveEl = document.getElementById("tracked-live");
  var source = new EventSource(url);

  function showReplies(replies) {
    while (repliesEl.firstChild) { repliesEl.removeChild(repliesEl.firstChild); }
    replies.forEach(function (reply) {
      var item = document.createElement("li");
      var text = document.createElement("p");
      text.textContent = reply.text;  // text only: never parsed as HTML
      item.appendChild(text);
      if (reply.time) {
        var time = document.createElement("small");
        time.textContent = reply.time;
        item.appendChild(time);
      }
      repliesEl.appendChild(item);
    });
    repliesEl.hidden = replies.length === 0;
    noRepliesEl.hidden = replies.length !== 0;
  }

  source.addEventListener("status", function (event) {
    var view = JSON.parse(event.data);
    statusEl.textContent = view.status_label;
    statusEl.setAttribute("data-status", view.status);
    if (updatedEl) { updatedEl.textContent = view.update_time; }
    showReplies(view.replies || []);
    if (liveEl) { liveEl.hidden = false; }
    section.setAttribute("data-live", "on");
  });
  source.addEventListener("end", function () {
    source.close();
    if (liveEl) { liveEl.hidden = true; }
    section.setAttribute("data-live", "ended");
  });
}());
