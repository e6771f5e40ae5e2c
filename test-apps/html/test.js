// The kite test page: the websocket demos of the libwebsockets test page
// (dumb increment, mirror, open/close, server info) against kite's
// plugins, the POST forms and the /test/ HTTP buttons. Plain script, no
// external resources. Text from the network is only ever inserted with
// textContent.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);

  function wsUrl(extra) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/" + extra;
  }

  // Show a connection's state in its status cell: data-state is one of
  // init, connecting, open, closed (tests read it).
  function setState(prefix, state, text) {
    const td = $(prefix + "_statustd");
    td.dataset.state = state;
    $(prefix + "_status").textContent = text;
  }

  function openWs(prefix, extra, protocol, handlers) {
    let ws;
    setState(prefix, "connecting", "connecting...");
    try {
      ws = new WebSocket(wsUrl(extra), protocol);
    } catch (e) {
      setState(prefix, "closed", "cannot open: " + e);
      return null;
    }
    ws.onopen = () => {
      // The extensions the server agreed to (permessage-deflate), for tests.
      $(prefix + "_statustd").dataset.extensions = ws.extensions;
      setState(prefix, "open", "websocket connection opened");
      if (handlers.open)
        handlers.open(ws);
    };
    ws.onmessage = (ev) => handlers.message && handlers.message(ev);
    ws.onclose = (ev) => {
      setState(prefix, "closed", "websocket connection closed: " + ev.code +
               (ev.reason ? " " + ev.reason : ""));
      if (handlers.close)
        handlers.close(ev);
    };
    return ws;
  }

  const params = new URLSearchParams(location.search);

  // --- dumb-increment-protocol ---------------------------------------------
  const di = openWs("wsdi", "", "dumb-increment-protocol", {
    message: (ev) => { $("number").textContent = ev.data; },
  });
  $("offset").addEventListener("click", () => di && di.send("reset\n"));
  $("junk").addEventListener("click", () => di && di.send("a".repeat(9000)));

  // --- lws-mirror-protocol -------------------------------------------------
  // Shapes, as lws's test page and test client send them, each ended by ';':
  //   d #RRGGBB x1 y1 x2 y2   a line      c #RRGGBB x y r   a circle
  const mirrorName = params.get("mirror") || "";
  const canvas = $("mirror_canvas");
  const ctx = canvas.getContext("2d");
  let shapesRx = 0, pending = "", flushTimer = 0, down = false, last = null;
  $("mirror_name").textContent = mirrorName === "" ? '""' : mirrorName;

  function draw(data) {
    for (const item of data.split(";")) {
      const f = item.trim().split(" ");
      if (f.length < 5)
        continue;
      ctx.strokeStyle = f[1];
      ctx.beginPath();
      if (f[0] === "d" && f.length >= 6) {
        ctx.moveTo(+f[2], +f[3]);
        ctx.lineTo(+f[4], +f[5]);
      } else if (f[0] === "c") {
        ctx.arc(+f[2], +f[3], +f[4], 0, Math.PI * 2, true);
      } else {
        continue;
      }
      ctx.stroke();
      shapesRx++;
    }
    $("mirror_rx").textContent = shapesRx;
  }

  const lm = openWs("wslm", "?mirror=" + encodeURIComponent(mirrorName), "lws-mirror-protocol", {
    message: (ev) => typeof ev.data === "string" && draw(ev.data),
  });

  function flush() {
    flushTimer = 0;
    if (pending && lm && lm.readyState === WebSocket.OPEN)
      lm.send(pending);
    pending = "";
  }

  function point(ev) {
    const r = canvas.getBoundingClientRect();
    return [Math.round((ev.clientX - r.left) * canvas.width / r.width),
            Math.round((ev.clientY - r.top) * canvas.height / r.height)];
  }

  canvas.addEventListener("pointerdown", (ev) => {
    down = true;
    last = point(ev);
    canvas.setPointerCapture(ev.pointerId);
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!down)
      return;
    const p = point(ev);
    pending += "d " + $("color").value + " " + last[0] + " " + last[1] + " " + p[0] + " " +
               p[1] + ";";
    last = p;
    // Batch the strokes of a few milliseconds into one message, as lws does.
    if (pending.length > 400)
      flush();
    else if (!flushTimer)
      flushTimer = setTimeout(flush, 10);
  });
  for (const t of ["pointerup", "pointercancel"])
    canvas.addEventListener(t, () => { down = false; });
  $("mirror_clear").addEventListener("click", () => ctx.clearRect(0, 0, canvas.width, canvas.height));

  // --- open and close testing ----------------------------------------------
  let ot = null;
  function otButtons(open) {
    $("ot_open_btn").disabled = open;
    $("ot_close_btn").disabled = !open;
    $("ot_req_close_btn").disabled = !open;
  }
  $("ot_open_btn").addEventListener("click", () => {
    ot = openWs("ot", "", "dumb-increment-protocol", {
      open: () => otButtons(true),
      close: () => otButtons(false),
    });
  });
  $("ot_close_btn").addEventListener("click", () => ot && ot.close(3000, "Bye!"));
  $("ot_req_close_btn").addEventListener("click", () => ot && ot.send("closeme\n"));

  // --- lws-status ----------------------------------------------------------
  function row(table, label, value) {
    const tr = table.insertRow();
    const th = tr.insertCell();
    th.className = "l";
    th.textContent = label;
    const td = tr.insertCell();
    if (Array.isArray(value))
      value.forEach((v, i) => {
        if (i)
          td.appendChild(document.createElement("br"));
        td.appendChild(document.createTextNode(v));
      });
    else
      td.textContent = value;
  }

  openWs("s", "", "lws-status", {
    message: (ev) => {
      let j;
      try {
        j = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      const si = document.createElement("table");
      row(si, "Server", j.version || "");
      row(si, "Host", j.hostname || "");
      $("servinfo").replaceChildren(si);
      const ci = $("conninfo");
      ci.replaceChildren();
      (j.conns || []).forEach((c, i) => {
        const when = new Date(parseInt(c.time, 10) * 1000);
        row(ci, "client " + (i + 1), [c.peer, when.toString(), c.ua]);
      });
      $("status_count").textContent = (j.conns || []).length;
    },
  });

  // --- POST forms ----------------------------------------------------------
  const maxUpload = 16 * 1024 * 1024;
  $("file").addEventListener("change", () => {
    const f = $("file").files[0];
    $("upload").disabled = !f || f.size > maxUpload;
    $("file_info").textContent = !f ? "" : f.size > maxUpload ?
      "file larger than " + maxUpload + " bytes" : f.size + " bytes";
  });

  // --- /test/ HTTP buttons -------------------------------------------------
  async function show(url) {
    const t0 = performance.now();
    try {
      const r = await fetch(url);
      const body = await r.text();
      const ms = (performance.now() - t0).toFixed(1);
      $("out").textContent = `${r.status} ${r.statusText} (${body.length} bytes, ${ms} ms)\n` +
        body.slice(0, 400);
    } catch (e) {
      $("out").textContent = "error: " + e;
    }
  }
  for (const [id, url] of [["hello", "/test/hello"],
                           ["stream", "/test/stream?n=20&size=64"],
                           ["delay", "/test/delay?ms=300"]])
    $(id).addEventListener("click", () => show(url));

  $("brow").textContent = navigator.userAgent;
  $("status").textContent = "Script loaded: " + new Date().toISOString();
})();
