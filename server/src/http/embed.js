// hitl web chat: one <script> tag adds a chat button that opens the bot's chat in a frame.
(function () {
  "use strict";
  var botId = __HITL_BOT_ID__;
  var script = document.currentScript;
  var origin = new URL(script ? script.src : "/", location.href).origin;
  var registry = (window.__hitlChat = window.__hitlChat || {});
  if (registry[botId]) return;
  registry[botId] = true;

  var css =
    ".hitl-chat-button{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;" +
    "border:0;border-radius:50%;background:#2563eb;color:#fff;cursor:pointer;display:flex;" +
    "align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.25)}" +
    ".hitl-chat-button:focus-visible{outline:3px solid #f59e0b;outline-offset:3px}" +
    ".hitl-chat-frame{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:380px;" +
    "height:min(600px,calc(100vh - 108px));border:0;border-radius:12px;background:#fff;" +
    "box-shadow:0 8px 30px rgba(0,0,0,.3)}" +
    ".hitl-chat-frame[hidden]{display:none}" +
    "@media (max-width:480px){.hitl-chat-frame{inset:0;width:100%;height:100%;border-radius:0}" +
    ".hitl-chat-open .hitl-chat-button{display:none}}";
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);

  var frameId = "hitl-chat-frame-" + botId.replace(/[^A-Za-z0-9_-]/g, "_");
  var button = document.createElement("button");
  button.type = "button";
  button.className = "hitl-chat-button";
  button.setAttribute("aria-controls", frameId);
  button.innerHTML =
    '<svg width="28" height="28" viewBox="0 0 24 24" fill="none" stroke="currentColor" ' +
    'stroke-width="2" aria-hidden="true"><path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/></svg>';
  var frame = null;

  function label(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    button.title = open ? "Close chat" : "Chat with us";
  }

  function open() {
    if (!frame) {
      // Made on first open, so a page that never chats never loads the chat.
      frame = document.createElement("iframe");
      frame.id = frameId;
      frame.className = "hitl-chat-frame";
      frame.title = "Chat";
      frame.src = origin + "/chat/" + encodeURIComponent(botId) + "?embed=1";
      document.body.appendChild(frame);
    }
    frame.hidden = false;
    document.documentElement.classList.add("hitl-chat-open");
    label(true);
    frame.focus();
  }

  function close() {
    if (frame) frame.hidden = true;
    document.documentElement.classList.remove("hitl-chat-open");
    label(false);
    button.focus();
  }

  button.addEventListener("click", function () {
    if (frame && !frame.hidden) close();
    else open();
  });
  window.addEventListener("message", function (event) {
    if (event.origin === origin && event.data === "hitl:close") close();
  });
  label(false);
  document.body.appendChild(button);
})();
