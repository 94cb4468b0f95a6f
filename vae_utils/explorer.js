/* The latent explorer of vae_utils/explorer.py: a 2-D decoder that runs in the page.
 *
 * Every element `div.vae-explorer` holds its configuration (data-config, JSON) and its data
 * (script.vae-explorer-blob: base64 of gzipped bytes inline, or a data-src file that calls
 * VaeExplorer.receive). Per model, one blob of little-endian float16 numbers:
 *   W1 (hidden, 2), b1 (hidden), W2 (784, hidden), b2 (784), test codes (numTest, 2),
 *   training codes (numTrain, 2);
 * and one shared blob of bytes: test labels (numTest), training labels (numTrain), training
 * images (numTrain, 784), pixels 0..255.
 * The decoder is x_hat = sigmoid(W2 relu(W1 z + b1) + b2), as in vae_utils.explorer.decode.
 * The same file runs in a notebook's output (inlined there) and in the book's page.
 */
(function () {
  "use strict";
  if (window.VaeExplorer) {
    window.VaeExplorer.startAll();
    return;
  }

  const SIZE = 28; // pixels per side of an image
  const PIXELS = SIZE * SIZE;
  const PLANE = 360; // CSS pixels per side of the latent plane
  const STRIP = 10; // images in the interpolation strip
  const STEPS_PER_SIDE = 60; // an arrow key moves the handle 1/60 of the plane (Shift: 10 times)

  const received = new Map(); // blob hash -> base64 text, from VaeExplorer.receive
  const waiting = new Map(); // blob hash -> callbacks waiting for it
  const bytesOf = new Map(); // blob hash -> Promise<Uint8Array>, decompressed once per page

  function receive(hash, text) {
    received.set(hash, text);
    (waiting.get(hash) || []).forEach((callback) => callback(text));
    waiting.delete(hash);
  }

  function blobText(root, hash) {
    if (received.has(hash)) return Promise.resolve(received.get(hash));
    const element = root.querySelector('script.vae-explorer-blob[data-hash="' + hash + '"]');
    if (element && element.textContent.trim()) return Promise.resolve(element.textContent.trim());
    if (!element || !element.dataset.src) return Promise.reject(new Error("no data " + hash));
    return new Promise((resolve, reject) => {
      const first = !waiting.has(hash);
      waiting.set(hash, (waiting.get(hash) || []).concat([resolve]));
      if (!first) return;
      const script = document.createElement("script"); // works from file:// too, unlike fetch
      script.src = element.dataset.src;
      script.onerror = () => reject(new Error("could not load " + element.dataset.src));
      document.head.appendChild(script);
    });
  }

  function blobBytes(root, hash) {
    if (!bytesOf.has(hash)) {
      bytesOf.set(
        hash,
        blobText(root, hash).then((text) => {
          const binary = atob(text);
          const packed = new Uint8Array(binary.length);
          for (let i = 0; i < binary.length; i++) packed[i] = binary.charCodeAt(i);
          const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip"));
          return new Response(stream).arrayBuffer().then((buffer) => new Uint8Array(buffer));
        })
      );
    }
    return bytesOf.get(hash);
  }

  function halfToFloat(bytes, offset, count) {
    // little-endian IEEE 754 half precision -> Float32Array
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const h = bytes[offset + 2 * i] | (bytes[offset + 2 * i + 1] << 8);
      const sign = h & 0x8000 ? -1 : 1;
      const exponent = (h >> 10) & 31;
      const fraction = h & 1023;
      out[i] =
        exponent === 0
          ? sign * fraction * Math.pow(2, -24)
          : exponent === 31
            ? fraction ? NaN : sign * Infinity
            : sign * (1 + fraction / 1024) * Math.pow(2, exponent - 15);
    }
    return out;
  }

  function unpackModel(description, bytes, numTest, numTrain) {
    const hidden = description.hidden;
    const counts = [2 * hidden, hidden, PIXELS * hidden, PIXELS, 2 * numTest, 2 * numTrain];
    const arrays = [];
    let offset = 0;
    for (const count of counts) {
      arrays.push(halfToFloat(bytes, offset, count));
      offset += 2 * count;
    }
    if (offset !== bytes.length) throw new Error("model data of unexpected size");
    const [W1, b1, W2, b2, testCodes, trainCodes] = arrays;
    return Object.assign({}, description, {
      W1, b1, W2, b2, testCodes, trainCodes, activations: new Float64Array(hidden),
    });
  }

  // x_hat = sigmoid(W2 relu(W1 z + b1) + b2): out (784) in [0, 1]
  function decode(model, z1, z2, out) {
    const hidden = model.hidden;
    const h = model.activations;
    for (let j = 0; j < hidden; j++) {
      const value = model.W1[2 * j] * z1 + model.W1[2 * j + 1] * z2 + model.b1[j];
      h[j] = value > 0 ? value : 0;
    }
    for (let i = 0; i < PIXELS; i++) {
      let sum = model.b2[i];
      const row = i * hidden;
      for (let j = 0; j < hidden; j++) if (h[j] !== 0) sum += model.W2[row + j] * h[j];
      out[i] = 1 / (1 + Math.exp(-sum));
    }
    return out;
  }

  // One image into a canvas's ImageData at column `column`: dark garment on white (gray_r, as
  // the course's figures), 255 - round(255 * value).
  function paint(image, values, column, fromBytes) {
    const data = image.data;
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const v = values[y * SIZE + x];
        const level = 255 - (fromBytes ? v : Math.round(255 * v));
        const k = 4 * (y * image.width + column * SIZE + x);
        data[k] = data[k + 1] = data[k + 2] = level;
        data[k + 3] = 255;
      }
    }
  }

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (key === "text") node.textContent = value;
      else if (key === "style") node.style.cssText = value;
      else node.setAttribute(key, value);
    }
    (children || []).forEach((child) => node.appendChild(child));
    return node;
  }

  function format(value) {
    return (Math.abs(value) < 0.005 ? 0 : value).toFixed(2);
  }

  class Explorer {
    constructor(root) {
      this.root = root;
      this.config = JSON.parse(root.dataset.config);
      this.id = root.id;
      this.models = new Map(); // index -> unpacked model
      this.codes = [
        [0, 0],
        [1, 0],
      ];
      this.active = 0; // the handle the decoded image and the nearest training image follow
      this.mode = "point";
      this.stats = { frames: 0, totalMs: 0, maxMs: 0 };
      this.decoded = new Float32Array(PIXELS);
      this.build();
      this.ready = this.start();
    }

    build() {
      const c = this.config;
      const id = this.id;
      const status = this.root.querySelector(".vae-explorer-status");
      status.textContent = "Loading the models...";
      this.status = status;
      this.select = element(
        "select",
        { id: id + "-model" },
        c.models.map((m, i) => element("option", { value: String(i), text: m.label }))
      );
      this.select.value = String(c.initial);
      const modeName = id + "-mode";
      this.modeInputs = ["point", "line"].map((value) =>
        element("input", { type: "radio", name: modeName, value: value, id: modeName + value })
      );
      this.modeInputs[0].checked = true;
      const controls = element("div", { class: "vae-explorer-controls" }, [
        element("label", { for: id + "-model", text: "Model " }),
        this.select,
        element("fieldset", {}, [
          element("legend", { text: "Mode" }),
          this.modeInputs[0],
          element("label", { for: modeName + "point", text: "one point" }),
          this.modeInputs[1],
          element("label", { for: modeName + "line", text: "a line between two points" }),
        ]),
      ]);
      this.plane = element("canvas", {
        class: "vae-explorer-plane",
        role: "img",
        width: String(PLANE * this.scale()),
        height: String(PLANE * this.scale()),
      });
      this.handles = ["A", "B"].map((name, i) =>
        element("div", {
          class: "vae-explorer-handle",
          tabindex: "0",
          role: "slider",
          "aria-label":
            "Code " + name + " in the latent plane: drag it, or use the arrow keys " +
            "(left and right move z1, up and down move z2; Shift for bigger steps)",
          "aria-valuemin": "-1",
          "aria-valuemax": "1",
          "aria-valuenow": "0",
          text: name,
        })
      );
      this.handles[1].hidden = true;
      this.marker = element("div", { class: "vae-explorer-marker", "aria-hidden": "true" });
      this.planeBox = element("div", { class: "vae-explorer-planebox" }, [
        this.plane, this.marker, ...this.handles,
      ]);
      this.image = element("canvas", {
        class: "vae-explorer-image", width: "28", height: "28", role: "img",
      });
      this.nearest = element("canvas", {
        class: "vae-explorer-image", width: "28", height: "28", role: "img",
      });
      this.imageCaption = element("figcaption", { text: "Decoded from code A" });
      this.nearestCaption = element("figcaption", { text: "Nearest training image" });
      this.strip = element("canvas", {
        class: "vae-explorer-strip", width: String(SIZE * STRIP), height: "28", role: "img",
      });
      this.stripFigure = element("figure", {}, [
        this.strip,
        element("figcaption", {
          text: "The straight line from A to B, decoded at " + STRIP + " evenly spaced codes",
        }),
      ]);
      this.stripFigure.hidden = true;
      const legend = element(
        "ul",
        { class: "vae-explorer-legend", "aria-label": "Classes of the test codes" },
        c.classNames.map((name, i) =>
          element("li", {}, [
            element("span", {
              class: "vae-explorer-swatch", style: "background:" + c.colors[i], "aria-hidden": "true",
            }),
            document.createTextNode(name),
          ])
        )
      );
      this.description = element("p", { class: "vae-explorer-description", "aria-live": "polite" });
      const style = element("style", {
        text:
          ".vae-explorer{margin:1em 0}" +
          ".vae-explorer-controls{display:flex;flex-wrap:wrap;gap:.5em 1.5em;align-items:center}" +
          ".vae-explorer fieldset{border:0;margin:0;padding:0;display:inline}" +
          ".vae-explorer legend{float:left;margin-right:.5em;padding:0;font-size:inherit}" +
          ".vae-explorer fieldset label{margin:0 1em 0 .25em}" +
          ".vae-explorer-body{display:flex;flex-wrap:wrap;gap:1em;margin-top:.5em}" +
          ".vae-explorer-planebox{position:relative;width:" + PLANE + "px;height:" + PLANE +
          "px;max-width:100%;touch-action:none;user-select:none;-webkit-user-select:none}" +
          ".vae-explorer-plane{width:100%;height:100%;border:1px solid #767676;cursor:crosshair}" +
          ".vae-explorer-handle{position:absolute;width:24px;height:24px;margin:-12px 0 0 -12px;" +
          "border-radius:50%;border:2px solid #000;background:#fff;color:#000;font:bold 12px/20px " +
          "sans-serif;text-align:center;cursor:grab;box-sizing:border-box;touch-action:none}" +
          ".vae-explorer-handle:focus{outline:3px solid #0072B2;outline-offset:2px}" +
          ".vae-explorer-marker{position:absolute;width:14px;height:14px;margin:-7px 0 0 -7px;" +
          "border:2px solid #D55E00;border-radius:2px;pointer-events:none;box-sizing:border-box}" +
          ".vae-explorer figure{margin:0 0 .5em 0}" +
          ".vae-explorer-image{width:140px;height:140px;image-rendering:pixelated;" +
          "border:1px solid #767676}" +
          ".vae-explorer-strip{width:100%;max-width:560px;image-rendering:pixelated;" +
          "border:1px solid #767676}" +
          ".vae-explorer figcaption{font-size:.9em;max-width:18em}" +
          ".vae-explorer-legend{list-style:none;padding:0;margin:.5em 0;display:flex;" +
          "flex-wrap:wrap;gap:.2em 1em}" +
          ".vae-explorer-swatch{display:inline-block;width:.8em;height:.8em;" +
          "border-radius:50%;margin-right:.3em}",
      });
      this.root.append(
        style,
        controls,
        element("div", { class: "vae-explorer-body" }, [
          this.planeBox,
          element("div", {}, [
            element("figure", {}, [this.image, this.imageCaption]),
            element("figure", {}, [this.nearest, this.nearestCaption]),
          ]),
        ]),
        this.stripFigure,
        legend,
        this.description
      );
      this.root.setAttribute("role", "group");
      this.root.setAttribute("aria-label", c.title);
      this.listen();
    }

    scale() {
      return Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    }

    async start() {
      const c = this.config;
      try {
        const shared = await blobBytes(this.root, c.shared);
        this.testLabels = shared.subarray(0, c.numTest);
        this.trainLabels = shared.subarray(c.numTest, c.numTest + c.numTrain);
        this.trainImages = shared.subarray(c.numTest + c.numTrain);
        await this.selectModel(c.initial);
        this.status.textContent = "";
        this.status.hidden = true;
      } catch (error) {
        this.status.textContent = "The latent explorer could not load its data: " + error;
        throw error;
      }
    }

    async loadModel(index) {
      if (!this.models.has(index)) {
        const c = this.config;
        const description = c.models[index];
        const bytes = await blobBytes(this.root, description.blob);
        this.models.set(index, unpackModel(description, bytes, c.numTest, c.numTrain));
      }
      return this.models.get(index);
    }

    async selectModel(index) {
      index = Number(index);
      this.select.value = String(index);
      this.status.hidden = false;
      this.status.textContent = "Loading " + this.config.models[index].label + "...";
      const model = await this.loadModel(index);
      this.status.hidden = true;
      if (Number(this.select.value) !== index) return; // the reader picked another meanwhile
      this.model = model;
      const [x0, x1, y0, y1] = model.bounds;
      if (this.modelIndex === undefined) {
        this.codes = [
          [(x0 + x1) / 2, (y0 + y1) / 2],
          [(x0 + 2 * x1) / 3, (y0 + y1) / 2],
        ];
      }
      this.modelIndex = index;
      this.codes = this.codes.map((z) => this.clamp(z));
      this.background = this.drawBackground(model);
      this.plane.setAttribute("aria-label", this.planeText(model));
      this.render();
      this.describe();
    }

    clamp(z) {
      const [x0, x1, y0, y1] = this.model.bounds;
      return [Math.min(x1, Math.max(x0, z[0])), Math.min(y1, Math.max(y0, z[1]))];
    }

    // plane coordinates: z -> fractions of the plane's width and height (0..1, y downwards)
    toUnit(z) {
      const [x0, x1, y0, y1] = this.model.bounds;
      return [(z[0] - x0) / (x1 - x0), (y1 - z[1]) / (y1 - y0)];
    }

    fromUnit(u, v) {
      const [x0, x1, y0, y1] = this.model.bounds;
      return [x0 + u * (x1 - x0), y1 - v * (y1 - y0)];
    }

    planeText(model) {
      const c = this.config;
      const [x0, x1, y0, y1] = model.bounds;
      return (
        "The latent plane of the " + model.label + ": the codes of " + c.numTest +
        " test images as dots coloured by class" +
        (model.prior ? ", and the prior's circles at 1, 2 and 3 standard deviations" : "") +
        "; z1 from " + format(x0) + " to " + format(x1) + ", z2 from " + format(y0) + " to " +
        format(y1) + ". The handles mark the codes being decoded."
      );
    }

    drawBackground(model) {
      const c = this.config;
      const s = this.scale();
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = PLANE * s;
      const ctx = canvas.getContext("2d");
      ctx.scale(s, s);
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, PLANE, PLANE);
      const at = (z) => this.toUnit(z).map((t) => t * PLANE);
      ctx.strokeStyle = "#ccc";
      ctx.lineWidth = 1;
      const [ox, oy] = at([0, 0]);
      ctx.beginPath();
      ctx.moveTo(ox, 0);
      ctx.lineTo(ox, PLANE);
      ctx.moveTo(0, oy);
      ctx.lineTo(PLANE, oy);
      ctx.stroke();
      ctx.globalAlpha = 0.75;
      for (let i = 0; i < c.numTest; i++) {
        const [x, y] = at([model.testCodes[2 * i], model.testCodes[2 * i + 1]]);
        ctx.fillStyle = c.colors[this.testLabels[i]];
        ctx.beginPath();
        ctx.arc(x, y, 1.6, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.globalAlpha = 1;
      if (model.prior) {
        const pixelsPerUnit = PLANE / (model.bounds[1] - model.bounds[0]);
        ctx.strokeStyle = "#000";
        ctx.setLineDash([5, 4]);
        ctx.fillStyle = "#000";
        ctx.font = "11px sans-serif";
        for (const radius of [1, 2, 3]) {
          ctx.beginPath();
          ctx.arc(ox, oy, radius * pixelsPerUnit, 0, 2 * Math.PI);
          ctx.stroke();
          ctx.fillText(radius + "\u03c3", ox + radius * pixelsPerUnit * 0.72 + 2,
            oy - radius * pixelsPerUnit * 0.72 - 2);
        }
        ctx.setLineDash([]);
      }
      ctx.fillStyle = "#000";
      ctx.font = "12px sans-serif";
      const [x0, x1, y0, y1] = model.bounds;
      ctx.fillText("z1 \u2192 (" + format(x0) + " to " + format(x1) + ")", 6, PLANE - 6);
      ctx.save();
      ctx.translate(14, PLANE - 6);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText("z2 \u2192 (" + format(y0) + " to " + format(y1) + ")", 14, 0);
      ctx.restore();
      return canvas;
    }

    nearestTraining(z) {
      const codes = this.model.trainCodes;
      let best = -1;
      let bestDistance = Infinity;
      for (let i = 0; i < this.config.numTrain; i++) {
        const dx = codes[2 * i] - z[0];
        const dy = codes[2 * i + 1] - z[1];
        const d = dx * dx + dy * dy;
        if (d < bestDistance) {
          bestDistance = d;
          best = i;
        }
      }
      return [best, Math.sqrt(bestDistance)];
    }

    testCodesNear(z, radius) {
      const codes = this.model.testCodes;
      let count = 0;
      for (let i = 0; i < this.config.numTest; i++) {
        const dx = codes[2 * i] - z[0];
        const dy = codes[2 * i + 1] - z[1];
        if (dx * dx + dy * dy <= radius * radius) count++;
      }
      return count;
    }

    render() {
      if (!this.model) return;
      const start = performance.now();
      const model = this.model;
      const s = this.scale();
      const ctx = this.plane.getContext("2d");
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(this.background, 0, 0);
      ctx.scale(s, s);
      const line = this.mode === "line";
      if (line) {
        const [ax, ay] = this.toUnit(this.codes[0]).map((t) => t * PLANE);
        const [bx, by] = this.toUnit(this.codes[1]).map((t) => t * PLANE);
        ctx.strokeStyle = "#000";
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.moveTo(ax, ay);
        ctx.lineTo(bx, by);
        ctx.stroke();
        ctx.fillStyle = "#000";
        for (let k = 0; k < STRIP; k++) {
          const t = k / (STRIP - 1);
          ctx.beginPath();
          ctx.arc(ax + t * (bx - ax), ay + t * (by - ay), 3, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
      this.handles.forEach((handle, i) => {
        const [u, v] = this.toUnit(this.codes[i]);
        handle.style.left = 100 * u + "%";
        handle.style.top = 100 * v + "%";
        const z = this.codes[i];
        handle.setAttribute("aria-valuemin", model.bounds[0].toFixed(2));
        handle.setAttribute("aria-valuemax", model.bounds[1].toFixed(2));
        handle.setAttribute("aria-valuenow", z[0].toFixed(2));
        handle.setAttribute("aria-valuetext", "z1 = " + format(z[0]) + ", z2 = " + format(z[1]));
      });
      const z = this.codes[this.active];
      decode(model, z[0], z[1], this.decoded);
      const imageContext = this.image.getContext("2d");
      const picture = imageContext.createImageData(SIZE, SIZE);
      paint(picture, this.decoded, 0, false);
      imageContext.putImageData(picture, 0, 0);
      const name = "AB"[this.active];
      this.imageCaption.textContent =
        "Decoded from code " + name + " = (" + format(z[0]) + ", " + format(z[1]) + ")";
      this.image.setAttribute("aria-label", "The image the decoder draws for code " + name +
        ", z = (" + format(z[0]) + ", " + format(z[1]) + ")");
      const [index, distance] = this.nearestTraining(z);
      this.nearestIndex = index;
      this.nearestDistance = distance;
      const c = this.config;
      const nearestContext = this.nearest.getContext("2d");
      const nearestPicture = nearestContext.createImageData(SIZE, SIZE);
      paint(nearestPicture, this.trainImages.subarray(index * PIXELS, (index + 1) * PIXELS), 0, true);
      nearestContext.putImageData(nearestPicture, 0, 0);
      const nearestCode = [model.trainCodes[2 * index], model.trainCodes[2 * index + 1]];
      const className = c.classNames[this.trainLabels[index]];
      this.nearestCaption.textContent =
        "Nearest of " + c.numTrain + " training images: " + className + ", its code (" +
        format(nearestCode[0]) + ", " + format(nearestCode[1]) + ") at distance " +
        format(distance) + " (the square on the plane)";
      this.nearest.setAttribute("aria-label", "A training image of the class " + className +
        ", the one whose code is nearest to code " + name);
      const [mu, mv] = this.toUnit(nearestCode);
      this.marker.style.left = 100 * mu + "%";
      this.marker.style.top = 100 * mv + "%";
      if (line) {
        const stripContext = this.strip.getContext("2d");
        const strip = stripContext.createImageData(SIZE * STRIP, SIZE);
        const values = new Float32Array(PIXELS);
        const [a, b] = this.codes;
        for (let k = 0; k < STRIP; k++) {
          const t = k / (STRIP - 1);
          decode(model, a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), values);
          paint(strip, values, k, false);
        }
        stripContext.putImageData(strip, 0, 0);
        this.strip.setAttribute("aria-label", "Images decoded along the straight line from A = (" +
          format(a[0]) + ", " + format(a[1]) + ") to B = (" + format(b[0]) + ", " +
          format(b[1]) + ")");
      }
      const ms = performance.now() - start;
      this.stats.frames += 1;
      this.stats.totalMs += ms;
      this.stats.maxMs = Math.max(this.stats.maxMs, ms);
    }

    // The text alternative: what the handle's code is near, updated when a move ends.
    describe() {
      if (!this.model) return;
      const c = this.config;
      const model = this.model;
      const z = this.codes[this.active];
      const radius = (model.bounds[1] - model.bounds[0]) / 40;
      const near = this.testCodesNear(z, radius);
      const className = c.classNames[this.trainLabels[this.nearestIndex]];
      let text =
        model.label + ": code " + "AB"[this.active] + " is at z = (" + format(z[0]) + ", " +
        format(z[1]) + ")" +
        (model.prior ? ", " + format(Math.hypot(z[0], z[1])) + " prior standard deviations " +
          "from the centre" : "") + ". " +
        (near === 0
          ? "No test code lies within " + format(radius) + " of it: a hole in the plane. "
          : near + " of the " + c.numTest + " test codes " + (near === 1 ? "lies" : "lie") +
            " within " + format(radius) + " of it. ") +
        "The nearest training code is that of a training image of the class " + className +
        ", at distance " +
        format(this.nearestDistance) + ".";
      if (this.mode === "line") {
        const [a, b] = this.codes;
        text += " The strip decodes the line from A = (" + format(a[0]) + ", " + format(a[1]) +
          ") to B = (" + format(b[0]) + ", " + format(b[1]) + ").";
      }
      this.description.textContent = text;
    }

    setCode(i, z) {
      this.active = i;
      this.codes[i] = this.clamp(z);
      this.render();
    }

    setMode(mode) {
      this.mode = mode;
      const line = mode === "line";
      this.handles[1].hidden = !line;
      this.stripFigure.hidden = !line;
      this.modeInputs[line ? 1 : 0].checked = true;
      if (!line) this.active = 0;
      this.render();
      this.describe();
    }

    listen() {
      this.select.addEventListener("change", () => this.selectModel(this.select.value));
      this.modeInputs.forEach((input) =>
        input.addEventListener("change", () => input.checked && this.setMode(input.value))
      );
      let dragging = -1;
      const moveTo = (event) => {
        const box = this.plane.getBoundingClientRect();
        const u = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
        const v = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
        this.setCode(dragging, this.fromUnit(u, v));
      };
      this.planeBox.addEventListener("pointerdown", (event) => {
        if (!this.model || event.button > 0) return;
        const handle = this.handles.indexOf(event.target);
        if (handle >= 0) {
          dragging = handle;
        } else {
          // a press on the plane moves the nearest visible handle there
          const box = this.plane.getBoundingClientRect();
          const distance = (i) => {
            const [u, v] = this.toUnit(this.codes[i]);
            return Math.hypot(box.left + u * box.width - event.clientX,
              box.top + v * box.height - event.clientY);
          };
          dragging = this.mode === "line" && distance(1) < distance(0) ? 1 : 0;
        }
        event.preventDefault();
        this.planeBox.setPointerCapture(event.pointerId);
        this.handles[dragging].focus({ preventScroll: true });
        moveTo(event);
      });
      this.planeBox.addEventListener("pointermove", (event) => {
        if (dragging >= 0) moveTo(event);
      });
      const stop = () => {
        if (dragging >= 0) this.describe();
        dragging = -1;
      };
      this.planeBox.addEventListener("pointerup", stop);
      this.planeBox.addEventListener("pointercancel", stop);
      this.handles.forEach((handle, i) => {
        handle.addEventListener("focus", () => {
          if (this.active !== i) {
            this.active = i;
            this.render();
          }
        });
        handle.addEventListener("keydown", (event) => {
          if (!this.model) return;
          const [x0, x1] = this.model.bounds;
          const step = ((x1 - x0) / STEPS_PER_SIDE) * (event.shiftKey ? 10 : 1);
          const moves = {
            ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step],
          };
          const move = moves[event.key];
          if (!move) return;
          event.preventDefault();
          const z = this.codes[i];
          this.setCode(i, [z[0] + move[0], z[1] + move[1]]);
        });
        handle.addEventListener("keyup", (event) => {
          if (event.key.startsWith("Arrow")) this.describe();
        });
      });
    }
  }

  function startAll() {
    document.querySelectorAll(".vae-explorer:not([data-started])").forEach((root) => {
      root.setAttribute("data-started", "");
      root.vaeExplorer = new Explorer(root);
      root.vaeExplorer.ready.catch((error) => console.warn("vae explorer:", error));
    });
  }

  window.VaeExplorer = { receive, startAll, decode };
  startAll();
})();
