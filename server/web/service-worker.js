// The web chat's service worker (docs/protocol.md, "Push notifications"): it shows a push as a
// notification and opens the chat when it is tapped. Nothing else:
// - no `fetch` handler and no Cache Storage: nothing a young person wrote or read is ever kept
//   by the worker (a phone or laptop may be shared or checked);
// - the notification says only the neutral words below, whatever the push carries. The server
//   sends exactly these words; showing them rather than the payload means that no sender, not
//   even a mistaken one, can put a message or the service's name on a lock screen.
const NEUTRAL_TITLE = "New message";
const NEUTRAL_BODY = "Open the app to read it";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  // One notification at a time (`tag`): a second push replaces the first, and alerts again.
  event.waitUntil(self.registration.showNotification(NEUTRAL_TITLE, { body: NEUTRAL_BODY, tag: "reply", renotify: true }));
});

// Tapped: the chat page if one is open (focused), else a new one.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil((async () => {
    const chat = new URL("/", self.location.origin).href;
    const open = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const page = open.find((c) => c.url.split("#")[0].split("?")[0] === chat);
    if (page) return page.focus();
    return self.clients.openWindow(chat);
  })());
});

// The browser's push service renewed or expired the subscription: subscribe again with the same
// key if the browser did not, and tell any open chat page, which registers the new one with the
// server (the worker holds no token: the young person's session stays with their tab).
self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil((async () => {
    let sub = event.newSubscription || (await self.registration.pushManager.getSubscription());
    const key = event.oldSubscription && event.oldSubscription.options && event.oldSubscription.options.applicationServerKey;
    if (!sub && key) {
      try {
        sub = await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      } catch (e) { /* the page offers the button again */ }
    }
    for (const page of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
      page.postMessage({ type: "push-changed" });
    }
  })());
});

// The quick exit asks the worker to drop the device's push subscription: the page is gone at
// once, and the worker outlives it long enough to finish.
self.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "forget-push") return;
  event.waitUntil((async () => {
    const sub = await self.registration.pushManager.getSubscription();
    if (sub) await sub.unsubscribe();
    for (const n of await self.registration.getNotifications()) n.close();
  })());
});
