// Drives the /test/ callback mount from the browser and shows the answers.
"use strict";
const out = document.getElementById("out");

async function show(url) {
  const t0 = performance.now();
  try {
    const r = await fetch(url);
    const body = await r.text();
    const ms = (performance.now() - t0).toFixed(1);
    out.textContent = `${r.status} ${r.statusText} (${body.length} bytes, ${ms} ms)\n` +
      body.slice(0, 400);
  } catch (e) {
    out.textContent = "error: " + e;
  }
}

for (const [id, url] of [["hello", "/test/hello"],
                         ["stream", "/test/stream?n=20&size=64"],
                         ["delay", "/test/delay?ms=300"]]) {
  document.getElementById(id).addEventListener("click", () => show(url));
}
document.getElementById("status").textContent = "Script loaded: " + new Date().toISOString();
