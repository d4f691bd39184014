// tests/browser_check.sh adds this script to a copy of the course page: after the panels have started, it uses them
// as a person would, with synthetic pointer, keyboard and input events (hover and press on the scatters, arrow keys,
// the interpolation slider and its digit choice, strokes on the drawing pad by pointer and by keyboard, the noise
// slider, the buttons), checks that each changed what it should, and writes the result into <pre id="ae-interaction">:
// "interaction: ok (N checks)" or "interaction: FAILED" with the failed checks, then what the drawing panel said for
// each input. (A range input's own keyboard handling is the browser's: synthetic key events do not move it, so it is
// not here.)
(function () {
  "use strict";
  const passed = [], failed = [], seen = [];
  const expect = (ok, what) => (ok ? passed : failed).push(what);
  const pixels = (c) => Array.from(c.getContext("2d").getImageData(0, 0, c.width, c.height).data);
  const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  const blank = (c) => pixels(c).every((v, i) => i % 4 === 3 || v === 0);
  function pointer(target, type, fx, fy) {  // at the fraction (fx, fy) of the element's box
    const r = target.getBoundingClientRect();
    target.dispatchEvent(new PointerEvent(type, { bubbles: true, pointerId: 1, isPrimary: true,
      clientX: r.left + fx * r.width, clientY: r.top + fy * r.height }));
  }
  function slide(input, value) {
    input.value = value;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }
  const z = (readout) => readout.textContent.match(/z = \(([-\d.]+), ([-\d.]+)\)/).slice(1).map(Number);

  function latent(panel) {
    const [vae, ae] = panel.querySelectorAll("canvas.ae-scatter");
    const [vaeImage, aeImage] = panel.querySelectorAll("canvas.ae-big");
    const [vaeText, aeText] = panel.querySelectorAll(".ae-readout");
    let before = pixels(vaeImage);
    pointer(vae, "pointermove", 0.75, 0.25);
    expect(!same(before, pixels(vaeImage)), "latent: hovering over the VAE scatter decodes another z");
    expect(/nearest test code: a \d/.test(vaeText.textContent), "latent: the readout names z and the nearest test digit");
    before = pixels(aeImage);
    const aeZ = z(aeText);
    pointer(ae, "pointerdown", 0.1, 0.9);
    pointer(ae, "pointermove", 0.15, 0.85);
    expect(!same(before, pixels(aeImage)) && z(aeText)[0] !== aeZ[0], "latent: pressing and dragging on the plain AE scatter decodes there");
    const [x0, y0] = z(vaeText);
    vae.focus();
    vae.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    const [x1, y1] = z(vaeText);
    expect(x1 > x0 && y1 === y0, "latent: the right arrow key moves z to the right (" + x0 + " → " + x1 + ")");
    vae.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowUp", bubbles: true }));
    expect(z(vaeText)[1] > y1, "latent: the up arrow key moves z up");
  }

  function interpolation(panel) {
    const t = panel.querySelector("#ae-interp-t"), from = panel.querySelector("#ae-interp-from");
    const [a, b] = panel.querySelectorAll(".ae-controls canvas");
    const [vaeBig, aeBig, pixelBig] = panel.querySelectorAll("canvas.ae-big");
    slide(t, 0);
    expect(panel.querySelector("output").textContent === "t = 0.00", "interpolation: the slider's value is shown");
    expect(same(pixels(pixelBig), pixels(a)), "interpolation: at t = 0 the pixel cross-fade is digit a");
    const vaeAt0 = pixels(vaeBig), aeAt0 = pixels(aeBig);
    slide(t, 100);
    expect(same(pixels(pixelBig), pixels(b)), "interpolation: at t = 1 the pixel cross-fade is digit b");
    expect(!same(vaeAt0, pixels(vaeBig)) && !same(aeAt0, pixels(aeBig)), "interpolation: both decoders' images move with t");
    const current = panel.querySelectorAll("canvas.ae-thumb.ae-current");
    expect(current.length === 3 && current[0] === panel.querySelectorAll(".ae-strip")[0].lastChild,
      "interpolation: at t = 1 each strip marks its last step");
    const aBefore = pixels(a);
    from.value = "3";
    from.dispatchEvent(new Event("input", { bubbles: true }));
    expect(!same(aBefore, pixels(a)), "interpolation: choosing another digit a shows it");
  }

  function draw(panel) {
    const pad = panel.querySelector("canvas.ae-pad"), noise = panel.querySelector("#ae-noise");
    const [input, denoised] = panel.querySelectorAll("canvas.ae-big");
    const verdict = panel.querySelector(".ae-verdict");
    const button = (text) => [...panel.querySelectorAll("button")].find((x) => x.textContent === text);
    if (verdict) seen.push("a test digit: " + verdict.textContent);
    button("clear").click();
    expect(blank(input), "draw: clear empties the input");
    const key = (k, shift) => pad.dispatchEvent(new KeyboardEvent("keydown", { key: k, shiftKey: !!shift, bubbles: true }));
    const penSays = () => panel.querySelector(".ae-readout").textContent;
    pad.focus();
    key("ArrowUp", true);
    expect(blank(input) && /pen at pixel \(14, 4\) of 28 × 28, up/.test(penSays()),
      "draw: Shift+up moves the keyboard pen ten pixels without drawing (" + penSays() + ")");
    key(" ");
    for (let k = 0; k < 12; k++) key("ArrowDown");
    expect(!blank(input) && !blank(denoised) && /pixel \(14, 16\) .* down/.test(penSays()),
      "draw: with the pen down (space bar) the down arrow draws a stroke the models see (" + penSays() + ")");
    key(" ");
    expect(/up$/.test(penSays()), "draw: the space bar lifts the keyboard pen");
    if (verdict) seen.push("a keyboard stroke: " + verdict.textContent);
    button("clear").click();
    pointer(pad, "pointerdown", 0.5, 0.15);
    for (let k = 1; k <= 10; k++) pointer(pad, "pointermove", 0.5 - 0.01 * k, 0.15 + 0.07 * k);
    pad.dispatchEvent(new PointerEvent("pointerup", { bubbles: true, pointerId: 1 }));
    expect(!blank(input) && !blank(denoised), "draw: a stroke on the pad reaches the models and comes back reconstructed");
    if (verdict) {
      expect(/reconstruction error [\d.e-]+ .* τ = [\d.e-]+: (digit-like|anomalous)/.test(verdict.textContent),
        "draw: the verdict holds the error against τ");
      seen.push("one stroke (a 1): " + verdict.textContent);
    }
    const clean = pixels(input);
    slide(noise, 50);
    expect(!same(clean, pixels(input)) && /training level/.test(panel.querySelector("output").textContent),
      "draw: the noise slider adds noise (σ = 0.50, the DAE's training level)");
    if (verdict) seen.push("the stroke with noise σ = 0.5: " + verdict.textContent);
    slide(noise, 0);
    const item = button("a Fashion-MNIST item");
    if (item) {
      item.click();
      seen.push("a Fashion-MNIST item: " + verdict.textContent);
    }
  }

  function run() {
    const panels = { "ae-latent": latent, "ae-interpolation": interpolation, "ae-draw": draw };
    for (const [id, test] of Object.entries(panels)) {
      const panel = document.getElementById(id);
      if (!panel) continue;
      try {
        test(panel);
      } catch (e) {
        failed.push(id + ": " + e.message);
      }
    }
    const out = document.createElement("pre");
    out.id = "ae-interaction";
    out.textContent = (failed.length ? "interaction: FAILED\n" + failed.join("\n") : "interaction: ok (" + passed.length + " checks)") +
      "\n" + passed.map((p) => "passed: " + p).join("\n") + "\n" + seen.join("\n");
    document.body.append(out);
  }
  addEventListener("load", () => setTimeout(run, 0));
})();
