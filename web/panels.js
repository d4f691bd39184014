// The course page's interactive panels, run on the models the lessons exported (page_models.js, read through
// globalThis.AE_MODELS) with web/autoencoder.js. lessons/course_page.cpp writes an empty <div class="ae-panel">
// for each panel whose lessons have run; this script fills it and sets data-drawn="yes" once it has drawn.
//   #ae-models-check    every exported model run on its test vectors against the C++ outputs ("models check: ok")
//   #ae-latent          lesson 10: the 2-D test codes of the VAE and the plain AE; the pointer's z decoded by each
//   #ae-interpolation   lesson 10: a slider from one test digit to another, through both code spaces and pixels
//   #ae-draw            lessons 05 and 11: a drawing, its noisy version, the denoising AE's reconstruction and the
//                       anomaly AE's reconstruction error against lesson 11's threshold τ
(function () {
  "use strict";
  const AE = globalThis.Autoencoder, MODELS = globalThis.AE_MODELS || {};
  const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const SIDE = 28, PIXELS = SIDE * SIDE;

  // ---- small helpers ---------------------------------------------------------------------------------------
  function el(tag, attrs, children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else e.setAttribute(k, v);
    }
    for (const c of children || []) e.append(c);
    return e;
  }
  const fmt = (v) => (v !== 0 && (Math.abs(v) < 1e-4 || Math.abs(v) >= 1e4) ? v.toExponential(2) : String(+v.toPrecision(3)));
  const row = (values, i, width) => values.subarray(i * width, (i + 1) * width);
  const models = new Map();  // "lesson/name" → Sequential, each made once (checkModels makes them first)
  function model(lesson, name) {
    const key = lesson + "/" + name;
    if (!models.has(key)) models.set(key, new AE.Sequential(MODELS[lesson].models[name].layers));
    return models.get(key);
  }
  function data(lesson, name) {
    const a = MODELS[lesson].data[name];
    return AE.decodeArray(a);
  }

  // A 28×28 image canvas (shown enlarged by CSS, pixels kept sharp); show(pixels in [0, 1]) draws white on black.
  function imageCanvas(label, cls) {
    const c = el("canvas", { width: SIDE, height: SIDE, class: "ae-digit " + (cls || ""), role: "img", "aria-label": label });
    const ctx = c.getContext("2d"), img = ctx.createImageData(SIDE, SIDE);
    c.show = (pixels) => {
      for (let i = 0; i < PIXELS; i++) {
        const v = Math.round(255 * Math.min(1, Math.max(0, pixels[i])));
        img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
        img.data[4 * i + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
    };
    return c;
  }
  function labelled(caption, node) {
    return el("figure", { class: "ae-cell" }, [node, el("figcaption", { text: caption })]);
  }
  function capture(target, e) {  // keeps a drag's moves coming to TARGET outside it (not possible for synthetic events)
    try {
      target.setPointerCapture(e.pointerId);
    } catch (err) {
      /* no active pointer: nothing to capture */
    }
  }
  function drawn(panel) {
    panel.setAttribute("data-drawn", "yes");
  }

  // ---- models check ----------------------------------------------------------------------------------------
  function checkModels() {
    const line = document.getElementById("ae-models-check");
    if (!line) return;
    let worst = 0, count = 0, vectors = 0, change = 0;
    const failed = [], quick = [];
    for (const [lesson, exp] of Object.entries(MODELS)) {
      if (exp.quick) quick.push(lesson);
      for (const [name, spec] of Object.entries(exp.models)) {
        let r;
        try {
          r = AE.checkModel(spec);
          models.set(lesson + "/" + name, r.model);
        } catch (e) {
          r = { ok: false, relativeError: NaN, count: 0, message: e.message };
        }
        count++;
        vectors += r.count;
        worst = Math.max(worst, r.relativeError);
        change = Math.max(change, spec.float16_change);
        if (!r.ok) failed.push(lesson + "/" + name + " (" + (r.message || "relative error " + r.relativeError.toExponential(2)) + ")");
      }
    }
    if (count === 0) {
      line.textContent = "models check: no exported models (run the lessons, e.g. bash scripts/lessons.sh)";
      return;
    }
    line.className = "ae-check " + (failed.length ? "ae-bad" : "ae-good");
    line.textContent = failed.length
      ? "models check: FAILED for " + failed.join(", ")
      : "models check: ok (" + count + " models, " + vectors + " test vectors; JavaScript against C++: relative error " +
        worst.toExponential(1) + ", limit 1e-5)";
    const note = el("p", { class: "slides", text: "The page stores the weights as float16, which moves the models' outputs by at most " +
      fmt(change) + " (pixels in [0, 1]) from the trained float32 models'; the check runs the same float16 weights in C++." +
      (quick.length ? " Models from a --quick run (" + quick.join(", ") + "): barely trained." : "") });
    line.after(note);
  }

  // ---- a scatter of 2-D codes, coloured by class, with z under the pointer --------------------------------
  // onZ(z, nearestIndex) is called when the pointer (hover, drag, touch) or the arrow keys move z.
  function scatter(codes, labels, label, onZ) {
    const n = labels.length, size = 360, pad = 34, dpr = Math.min(2, globalThis.devicePixelRatio || 1);  // sharp on hi-DPI
    const c = el("canvas", { width: size * dpr, height: size * dpr, class: "ae-scatter", tabindex: "0", role: "img", "aria-label": label });
    const ctx = c.getContext("2d");
    ctx.scale(dpr, dpr);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < n; i++) {
      x0 = Math.min(x0, codes[2 * i]), x1 = Math.max(x1, codes[2 * i]);
      y0 = Math.min(y0, codes[2 * i + 1]), y1 = Math.max(y1, codes[2 * i + 1]);
    }
    // equal scales on both axes (as the lesson's figures), a 10 % margin
    const span = 1.1 * Math.max(x1 - x0, y1 - y0, 1e-6), cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const scale = (size - 2 * pad) / span;
    const toPx = (zx, zy) => [pad + (zx - cx + span / 2) * scale, size - pad - (zy - cy + span / 2) * scale];
    const toZ = (px, py) => [cx - span / 2 + (px - pad) / scale, cy - span / 2 + (size - pad - py) / scale];
    const base = document.createElement("canvas");
    base.width = base.height = size * dpr;
    const b = base.getContext("2d");
    b.scale(dpr, dpr);
    b.fillStyle = "#fff";
    b.fillRect(0, 0, size, size);
    b.strokeStyle = "#999";
    b.strokeRect(pad, pad, size - 2 * pad, size - 2 * pad);
    b.fillStyle = "#333";
    b.font = "11px sans-serif";
    b.textAlign = "center";
    for (const t of [0, 0.5, 1]) {  // tick values at the edges and the middle of both axes, kept off the corner
      const zx = cx - span / 2 + t * span, zy = cy - span / 2 + t * span;
      b.textAlign = t === 0 ? "left" : t === 1 ? "right" : "center";
      b.fillText(zx.toFixed(1), pad + t * (size - 2 * pad), size - pad + 14);
      b.save();
      b.translate(pad - 6, size - pad - t * (size - 2 * pad));
      b.rotate(-Math.PI / 2);
      b.fillText(zy.toFixed(1), 0, 0);
      b.restore();
    }
    b.textAlign = "center";
    b.fillText("z1", size / 2, size - 4);
    b.fillText("z2", 10, size / 2);
    for (let i = 0; i < n; i++) {
      const [px, py] = toPx(codes[2 * i], codes[2 * i + 1]);
      b.fillStyle = TAB10[labels[i] % 10];
      b.fillRect(px - 1.5, py - 1.5, 3, 3);
    }
    let z = [cx, cy], ring = -1;
    function nearest(zx, zy) {
      let best = -1, d = Infinity;
      for (let i = 0; i < n; i++) {
        const e = (codes[2 * i] - zx) ** 2 + (codes[2 * i + 1] - zy) ** 2;
        if (e < d) (d = e), (best = i);
      }
      return best;
    }
    function redraw() {
      ctx.drawImage(base, 0, 0, size, size);
      if (ring >= 0) {  // the test digit nearest to the other panel's z
        const [px, py] = toPx(codes[2 * ring], codes[2 * ring + 1]);
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(px, py, 6, 0, 2 * Math.PI);
        ctx.stroke();
      }
      const [px, py] = toPx(z[0], z[1]);
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(px - 9, py), ctx.lineTo(px + 9, py), ctx.moveTo(px, py - 9), ctx.lineTo(px, py + 9);
      ctx.stroke();
    }
    function set(zx, zy) {
      z = [zx, zy];
      redraw();
      onZ(z, nearest(zx, zy));
    }
    function fromEvent(e) {
      const r = c.getBoundingClientRect();
      const [zx, zy] = toZ(((e.clientX - r.left) / r.width) * size, ((e.clientY - r.top) / r.height) * size);
      set(zx, zy);
    }
    c.addEventListener("pointermove", fromEvent);
    c.addEventListener("pointerdown", (e) => {
      capture(c, e);
      fromEvent(e);
    });
    c.addEventListener("keydown", (e) => {
      const step = span / 50, moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      if (!moves[e.key]) return;
      e.preventDefault();
      set(z[0] + moves[e.key][0], z[1] + moves[e.key][1]);
    });
    return { canvas: c, set: set, mark: (i) => ((ring = i), redraw()) };
  }

  function legend() {
    return el("p", { class: "ae-legend" }, TAB10.map((colour, d) => el("span", { style: "--c:" + colour, text: String(d) })));
  }

  // ---- lesson 10: the latent explorer ------------------------------------------------------------------------
  function latentPanel(panel) {
    const L = "10_variational";
    const labels = data(L, "labels").values;
    const sides = [
      { name: "VAE 2-D", model: model(L, "vae_2d_decoder"), codes: data(L, "vae_codes").values,
        what: "posterior means μ of " + labels.length + " test images" },
      { name: "plain AE 2-D", model: model(L, "plain_ae_2d_decoder"), codes: data(L, "plain_ae_codes").values,
        what: "codes of the same " + labels.length + " test images" },
    ];
    const columns = sides.map((s, k) => {
      s.image = imageCanvas("the " + s.name + " decoder's image at the chosen z", "ae-big");
      s.readout = el("p", { class: "ae-readout", "aria-live": "polite" });
      s.scatter = scatter(s.codes, labels,
        s.name + " latent space: " + s.what + ", coloured by digit class; move the pointer or use the arrow keys to decode a point",
        (z, near) => {
          s.image.show(s.model.forward(z, 1));
          s.readout.textContent = "z = (" + z[0].toFixed(2) + ", " + z[1].toFixed(2) + "); nearest test code: a " + labels[near] +
            " at distance " + Math.hypot(s.codes[2 * near] - z[0], s.codes[2 * near + 1] - z[1]).toFixed(2);
          sides[1 - k].scatter.mark(near);  // the same test image in the other latent space
        });
      return el("div", { class: "ae-column" }, [
        el("h4", { text: s.name + ": " + s.what }), s.scatter.canvas,
        el("div", { class: "ae-row" }, [labelled("decoded at z", s.image), s.readout]),
      ]);
    });
    panel.querySelector(".ae-body").append(legend(), el("div", { class: "ae-columns" }, columns));
    for (const s of sides.slice().reverse()) s.scatter.set(s.codes[0], s.codes[1]);  // start at the first test image's code
    drawn(panel);
  }

  // ---- lesson 10: interpolation ------------------------------------------------------------------------------
  function interpolationPanel(panel) {
    const L = "10_variational";
    const digits = data(L, "digits").values, codes = { vae: data(L, "digit_vae_codes").values, ae: data(L, "digit_plain_ae_codes").values };
    const decoders = { vae: model(L, "vae_2d_decoder"), ae: model(L, "plain_ae_2d_decoder") };
    const count = digits.length / PIXELS, steps = 9;
    const select = (id, label, value) => {
      const s = el("select", { id: id, "aria-label": label }, [...Array(count).keys()].map((d) => el("option", { value: d, text: "test digit " + d })));
      s.value = value;
      return s;
    };
    const from = select("ae-interp-from", "interpolate from", 7), to = select("ae-interp-to", "interpolate to", 1);
    const slider = el("input", { type: "range", min: 0, max: 100, value: 50, id: "ae-interp-t", "aria-label": "position t between the two digits, 0 to 100 %" });
    const tOut = el("output", { for: "ae-interp-t" });
    const methods = [
      { key: "vae", name: "VAE 2-D: decode (1 − t) μ(a) + t μ(b)" },
      { key: "ae", name: "plain AE 2-D: decode (1 − t) code(a) + t code(b)" },
      { key: "pixels", name: "pixel space: (1 − t) a + t b" },
    ];
    const endA = imageCanvas("the first test digit"), endB = imageCanvas("the second test digit");
    const rows = methods.map((m) => {
      m.big = imageCanvas(m.name + ", at t", "ae-big");
      m.strip = [...Array(steps).keys()].map((s) => imageCanvas(m.name + ", step " + (s + 1) + " of " + steps, "ae-thumb"));
      return el("div", { class: "ae-interp-row" }, [
        el("p", { class: "ae-row-label", text: m.name }), el("div", { class: "ae-row" }, [m.big, el("div", { class: "ae-strip" }, m.strip)]),
      ]);
    });
    function at(m, a, b, t) {
      if (m.key === "pixels") {
        const out = new Float32Array(PIXELS);
        for (let i = 0; i < PIXELS; i++) out[i] = (1 - t) * digits[a * PIXELS + i] + t * digits[b * PIXELS + i];
        return out;
      }
      const c = codes[m.key];
      return decoders[m.key].forward([(1 - t) * c[2 * a] + t * c[2 * b], (1 - t) * c[2 * a + 1] + t * c[2 * b + 1]], 1);
    }
    function update() {
      const a = +from.value, b = +to.value, t = slider.value / 100;
      tOut.textContent = "t = " + t.toFixed(2);
      endA.show(row(digits, a, PIXELS));
      endB.show(row(digits, b, PIXELS));
      for (const m of methods) {
        m.big.show(at(m, a, b, t));
        m.strip.forEach((c, s) => {
          const ts = s / (steps - 1);
          c.show(at(m, a, b, ts));
          c.classList.toggle("ae-current", Math.abs(ts - t) <= 0.5 / (steps - 1));
        });
      }
    }
    for (const c of [from, to, slider]) c.addEventListener("input", update);
    panel.querySelector(".ae-body").append(
      el("div", { class: "ae-controls" }, [
        labelled("a", endA), el("label", {}, ["from ", from]), el("label", {}, ["to ", to]), labelled("b", endB),
        el("label", { class: "ae-slider" }, ["t ", slider]), tOut,
      ]),
      ...rows);
    update();
    drawn(panel);
  }

  // ---- lessons 05 and 11: draw a digit ---------------------------------------------------------------------
  // A seeded generator (mulberry32) and Box–Muller: the same noise for the same σ, every time.
  function gaussianField(seed, n) {
    let s = seed >>> 0;
    const uniform = () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
    return out;
  }

  // The drawing as MNIST prepared its digits: the ink's bounding box scaled into 20×20 (aspect kept), then moved
  // so that its centre of mass sits at the centre of the 28×28 image.
  function toMnist(canvas) {
    const W = canvas.width, src = canvas.getContext("2d").getImageData(0, 0, W, W).data;
    let x0 = W, x1 = -1, y0 = W, y1 = -1;
    for (let y = 0; y < W; y++)
      for (let x = 0; x < W; x++)
        if (src[4 * (y * W + x)] > 0) (x0 = Math.min(x0, x)), (x1 = Math.max(x1, x)), (y0 = Math.min(y0, y)), (y1 = Math.max(y1, y));
    const out = new Float32Array(PIXELS);
    if (x1 < 0) return out;
    const w = x1 - x0 + 1, h = y1 - y0 + 1, s = 20 / Math.max(w, h);
    const small = document.createElement("canvas");
    small.width = small.height = SIDE;
    const g = small.getContext("2d");
    g.imageSmoothingEnabled = true;
    g.imageSmoothingQuality = "high";
    g.drawImage(canvas, x0, y0, w, h, (SIDE - w * s) / 2, (SIDE - h * s) / 2, w * s, h * s);
    const px = g.getImageData(0, 0, SIDE, SIDE).data;
    let mass = 0, mx = 0, my = 0;
    for (let i = 0; i < PIXELS; i++) {
      const v = px[4 * i] / 255;
      mass += v, (mx += v * (i % SIDE)), (my += v * Math.floor(i / SIDE));
    }
    if (mass === 0) return out;
    const dx = Math.round(13.5 - mx / mass), dy = Math.round(13.5 - my / mass);
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++) {
        const sx = x - dx, sy = y - dy;
        if (sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE) out[y * SIDE + x] = px[4 * (sy * SIDE + sx)] / 255;
      }
    return out;
  }

  function drawPanel(panel) {
    const dae = model("05_denoising", "dae_gaussian");
    const digits = data("05_denoising", "digits").values;
    const trainSigma = MODELS["05_denoising"].data.train_sigma;
    const detector = MODELS["11_anomaly_detection"];  // absent when lesson 11 has not run
    const anomaly = detector ? model("11_anomaly_detection", "anomaly_ae") : null;
    const fashion = detector ? data("11_anomaly_detection", "fashion_items").values : null;
    const size = 280, pad = el("canvas", { width: size, height: size, class: "ae-pad", role: "img", tabindex: "0",
      "aria-label": "drawing area: draw a digit with the mouse, a finger or a pen, or with the keyboard: " +
        "the arrow keys move the pen, the space bar puts it down or lifts it" });
    const pen = pad.getContext("2d");
    // the keyboard's pen: a ring on a canvas laid over the pad (the pad's own pixels are the models' input)
    const ring = el("canvas", { width: size, height: size, class: "ae-pen", "aria-hidden": "true" });
    const penText = el("p", { class: "ae-readout", "aria-live": "polite" });
    const eps = gaussianField(1, PIXELS);
    const noise = el("input", { type: "range", min: 0, max: 100, step: 5, value: 0, id: "ae-noise", "aria-label": "Gaussian noise sigma, 0 to 1" });
    const noiseOut = el("output", { for: "ae-noise" });
    const input = imageCanvas("the model input: the drawing at 28×28, with the noise", "ae-big");
    const denoised = imageCanvas("the denoising autoencoder's reconstruction", "ae-big");
    const rebuilt = imageCanvas("the anomaly detector's reconstruction", "ae-big");
    const verdict = el("p", { class: "ae-verdict", "aria-live": "polite" });
    let loaded = null;  // a 28×28 image loaded as is (a test digit), until the pen touches it
    function clear() {
      pen.fillStyle = "#000";
      pen.fillRect(0, 0, size, size);
      loaded = null;
    }
    function load(pixels) {  // shows a 28×28 image on the pad and feeds it to the models as it is
      const small = document.createElement("canvas");
      small.width = small.height = SIDE;
      const sc = small.getContext("2d"), img = sc.createImageData(SIDE, SIDE);
      for (let i = 0; i < PIXELS; i++) {
        img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = Math.round(255 * pixels[i]);
        img.data[4 * i + 3] = 255;
      }
      sc.putImageData(img, 0, 0);
      pen.imageSmoothingEnabled = true;
      pen.drawImage(small, 0, 0, size, size);
      loaded = Float32Array.from(pixels);
    }
    function update() {
      const sigma = noise.value / 100;
      noiseOut.textContent = "σ = " + sigma.toFixed(2) + (Math.abs(sigma - trainSigma) < 1e-9 ? " (the DAE's training level)" : "");
      const clean = loaded || toMnist(pad), x = new Float32Array(PIXELS);
      for (let i = 0; i < PIXELS; i++) x[i] = Math.min(1, Math.max(0, clean[i] + sigma * eps[i]));  // clip(x + σε, 0, 1)
      input.show(x);
      denoised.show(dae.forward(x, 1));
      if (anomaly) {
        const y = anomaly.forward(x, 1);
        rebuilt.show(y);
        let e = 0;
        for (let i = 0; i < PIXELS; i++) e += (x[i] - y[i]) ** 2;
        e /= PIXELS;
        const tau = detector.data.threshold, bad = e > tau;
        verdict.className = "ae-verdict " + (bad ? "ae-bad" : "ae-good");
        verdict.textContent = "reconstruction error " + fmt(e) + " (MSE per pixel) against τ = " + fmt(tau) + ": " +
          (bad ? "anomalous" : "digit-like") + " (" + (e / tau).toFixed(2) + " τ)";
      }
    }
    let last = null;
    function stroke(e) {
      const r = pad.getBoundingClientRect();
      const p = [((e.clientX - r.left) / r.width) * size, ((e.clientY - r.top) / r.height) * size];
      line(last || p, p);
      last = p;
    }
    function line(from, to) {  // 20 px wide: 2 of the 28 pixels; from = to draws a dot
      pen.strokeStyle = "#fff";
      pen.lineWidth = 20;
      pen.lineCap = pen.lineJoin = "round";
      pen.beginPath();
      pen.moveTo(...from);
      pen.lineTo(...to);
      pen.stroke();
      loaded = null;
      update();
    }
    pad.addEventListener("pointerdown", (e) => {
      capture(pad, e);
      last = null;
      stroke(e);
    });
    pad.addEventListener("pointermove", (e) => {
      if (last) stroke(e);
    });
    for (const end of ["pointerup", "pointercancel"]) pad.addEventListener(end, () => (last = null));
    // keyboard: the arrows move the pen by one of the 28 pixels (ten with Shift), the space bar (or Enter) puts it
    // down, which draws a dot, or lifts it; moving while it is down draws
    const keyPen = { at: [size / 2, size / 2], down: false, shown: false };
    function showPen() {
      const g = ring.getContext("2d");
      g.clearRect(0, 0, size, size);
      if (keyPen.shown) {
        g.strokeStyle = keyPen.down ? "#ff7f0e" : "#2b9bd6";
        g.lineWidth = 3;
        g.beginPath();
        g.arc(keyPen.at[0], keyPen.at[1], 12, 0, 2 * Math.PI);
        g.stroke();
      }
      const [x, y] = keyPen.at.map((v) => Math.floor(v / (size / SIDE)));
      penText.textContent = keyPen.shown ? "keyboard pen at pixel (" + x + ", " + y + ") of 28 × 28, " + (keyPen.down ? "down: moving draws" : "up") : "";
    }
    pad.addEventListener("keydown", (e) => {
      const step = (e.shiftKey ? 10 : 1) * (size / SIDE);
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[e.key]) {
        const to = keyPen.at.map((v, i) => Math.min(size - 5, Math.max(5, v + moves[e.key][i])));
        if (keyPen.down) line(keyPen.at, to);
        keyPen.at = to;
      } else if (e.key === " " || e.key === "Enter") {
        keyPen.down = !keyPen.down;
        if (keyPen.down) line(keyPen.at, keyPen.at);
      } else return;
      e.preventDefault();
      keyPen.shown = true;
      showPen();
    });
    pad.addEventListener("blur", () => ((keyPen.shown = keyPen.down = false), showPen()));
    noise.addEventListener("input", update);
    let nextDigit = 0, nextItem = 0;
    const button = (text, action) => {
      const b = el("button", { type: "button", text: text });
      b.addEventListener("click", () => (action(), update()));
      return b;
    };
    const buttons = [
      button("clear", clear),
      button("a test digit", () => (clear(), load(row(digits, nextDigit++ % (digits.length / PIXELS), PIXELS)))),
    ];
    if (fashion) buttons.push(button("a Fashion-MNIST item", () => (clear(), load(row(fashion, nextItem++ % (fashion.length / PIXELS), PIXELS)))));
    const outputs = [labelled("model input (28×28, noisy)", input), labelled("denoising AE (lesson 05)", denoised)];
    if (anomaly) outputs.push(labelled("anomaly AE (lesson 11)", rebuilt));
    const body = panel.querySelector(".ae-body");
    body.append(
      el("div", { class: "ae-row ae-draw" }, [
        el("div", {}, [el("div", { class: "ae-padbox" }, [pad, ring]), penText, el("div", { class: "ae-controls" }, [...buttons])]),
        el("div", {}, [
          el("label", { class: "ae-slider" }, ["noise σ ", noise]), noiseOut,
          el("div", { class: "ae-row" }, outputs), anomaly ? verdict : "",
          anomaly ? el("p", { class: "slides", text: "τ = " + fmt(detector.data.threshold) + ": " + detector.data.threshold_rule +
            " (lesson 11's detector: " + detector.models.anomaly_ae.description + "); the 99th percentile is " + fmt(detector.data.threshold_99) + "." }) : "",
        ]),
      ]));
    clear();
    load(row(digits, nextDigit++, PIXELS));
    update();
    drawn(panel);
  }

  // ---- start ------------------------------------------------------------------------------------------------
  function start() {
    const panels = { "ae-latent": latentPanel, "ae-interpolation": interpolationPanel, "ae-draw": drawPanel };
    const began = performance.now(), spent = [];
    checkModels();
    spent.push("models check " + Math.round(performance.now() - began) + " ms");
    for (const [id, init] of Object.entries(panels)) {
      const panel = document.getElementById(id), t = performance.now();
      if (!panel) continue;
      try {
        init(panel);
      } catch (e) {
        panel.setAttribute("data-drawn", "error");
        panel.querySelector(".ae-body").append(el("p", { class: "ae-bad", text: "This panel failed: " + e.message }));
      }
      spent.push(id.slice(3) + " " + Math.round(performance.now() - t) + " ms");
    }
    const ready = document.getElementById("ae-ready");
    if (ready)
      ready.textContent = "Panels interactive " + Math.round(performance.now()) + " ms after the page started loading (" +
        Math.round(began) + " ms to load the page and its models, then " + spent.join(", ") + ").";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
