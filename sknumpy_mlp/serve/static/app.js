// The page: draw on #pad, send the ink to /api/predict, show what comes back.
// Plain browser JavaScript, no build step, no libraries.
"use strict";

const pad = document.getElementById("pad");
const ink = pad.getContext("2d", { willReadFrequently: true });
const PEN = 22; // pixels of the 280-pixel pad: a felt pen, as on the scanned forms
let info = null;
let drawing = null; // the pointer drawing now, and its last point
let inFlight = false;
let again = false; // the drawing changed while a request was out

function setStatus(text) {
  document.getElementById("status").textContent = text;
}

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

// ------------------------------------------------------------------ drawing
function point(event) {
  const box = pad.getBoundingClientRect(); // includes the border; client* do not
  return [(event.clientX - box.left - pad.clientLeft) * (pad.width / pad.clientWidth),
          (event.clientY - box.top - pad.clientTop) * (pad.height / pad.clientHeight)];
}

function line(from, to) {
  ink.lineWidth = PEN;
  ink.lineCap = "round";
  ink.lineJoin = "round";
  ink.strokeStyle = "#111";
  ink.beginPath();
  ink.moveTo(from[0], from[1]);
  ink.lineTo(to[0], to[1]);
  ink.stroke();
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  drawing = { id: event.pointerId, last: point(event) };
  line(drawing.last, drawing.last); // a dot for a tap
  read();
});

pad.addEventListener("pointermove", (event) => {
  if (!drawing || event.pointerId !== drawing.id) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of (events.length ? events : [event])) {
    const p = point(e);
    line(drawing.last, p);
    drawing.last = p;
  }
  read();
});

function stop(event) {
  if (drawing && event.pointerId === drawing.id) {
    drawing = null;
    read();
  }
}
pad.addEventListener("pointerup", stop);
pad.addEventListener("pointercancel", stop);

document.getElementById("clear").addEventListener("click", () => {
  ink.clearRect(0, 0, pad.width, pad.height);
  read();
});

// ------------------------------------------------------------------ reading
function inkRows() {
  const { data, width, height } = ink.getImageData(0, 0, pad.width, pad.height);
  const rows = [];
  for (let r = 0; r < height; r++) {
    const row = new Array(width);
    for (let c = 0; c < width; c++) row[c] = data[4 * (r * width + c) + 3]; // alpha = ink
    rows.push(row);
  }
  return rows;
}

// At most one request out at a time; a change meanwhile is sent when it returns,
// so the bars follow the pen without queueing stale drawings.
async function read() {
  if (inFlight) { again = true; return; }
  inFlight = true;
  document.body.dataset.busy = "1";
  try {
    const result = await getJSON("/api/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ image: inkRows() }),
    });
    showReading(result);
    setStatus("");
  } catch (error) {
    setStatus(`Could not read the drawing: ${error.message}`);
  } finally {
    inFlight = false;
    if (again) { again = false; read(); } else {
      document.body.dataset.busy = "0";
      document.body.dataset.reads = String(Number(document.body.dataset.reads) + 1);
    }
  }
}

function showReading(result) {
  const best = result.blank ? -1 : result.probabilities.indexOf(
    Math.max(...result.probabilities));
  document.getElementById("predicted").textContent =
    result.blank ? "\u2013" : String(result.predicted);
  document.getElementById("confidence").textContent = result.blank
    ? "draw something" : `${(100 * result.confidence).toFixed(1)}% sure`;
  document.querySelectorAll("#bars li").forEach((li, i) => {
    const p = result.probabilities[i];
    li.querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
    li.querySelector(".pct").textContent = `${(100 * p).toFixed(1)}%`;
    li.classList.toggle("top", i === best);
  });
  paintImage(document.getElementById("seen"), result.model_input, info.kind === "digits");
}

// Ink dark on white, as drawn; for the 8x8 digits each cell shows its count 0..16.
function paintImage(canvas, image, counts) {
  const g = canvas.getContext("2d");
  const n = image.length;
  const cell = canvas.width / n;
  g.clearRect(0, 0, canvas.width, canvas.height);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = image[r][c];
      const shade = Math.round(255 * (1 - v));
      g.fillStyle = `rgb(${shade},${shade},${shade})`;
      g.fillRect(c * cell, r * cell, Math.ceil(cell), Math.ceil(cell));
      if (counts) {
        g.fillStyle = v > 0.5 ? "#fff" : v > 0 ? "#555" : "#bbb";
        g.font = `${Math.round(cell * 0.38)}px sans-serif`;
        g.textAlign = "center";
        g.textBaseline = "middle";
        g.fillText(String(Math.round(16 * v)), (c + 0.5) * cell, (r + 0.5) * cell);
      }
    }
  }
}

// ------------------------------------------------------------- test images
async function showSamples() {
  const holder = document.getElementById("samples");
  try {
    const { samples } = await getJSON("/api/samples?n=18");
    holder.replaceChildren();
    let wrong = 0;
    for (const s of samples) {
      const ok = String(s.label) === String(s.predicted);
      wrong += ok ? 0 : 1;
      const figure = document.createElement("figure");
      figure.className = ok ? "sample" : "sample wrong";
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 84;
      paintImage(canvas, s.image, false);
      const caption = document.createElement("figcaption");
      caption.textContent = `${s.predicted} \u00b7 ${(100 * s.confidence).toFixed(0)}%`;
      if (!ok) caption.textContent += ` (is ${s.label})`;
      figure.append(canvas, caption);
      holder.append(figure);
    }
    document.getElementById("samples-note").textContent = samples.length
      ? `Predicted digit and confidence; ${wrong} of ${samples.length} wrong (red).`
      : "No test images for this model.";
  } catch (error) {
    setStatus(`Could not load test images: ${error.message}`);
  }
}
document.getElementById("shuffle").addEventListener("click", showSamples);

// ------------------------------------------------------------------ start
const CAPTIONS = {
  digits: "Cropped to the ink, scaled into 32\u00d732, stroke widened to the " +
    "training digits' ink area, then set pixels counted in 4\u00d74 blocks: " +
    "8\u00d78 values 0\u201316, as in scikit-learn's digits.",
  mnist: "Scaled into a 20\u00d720 box, then placed in 28\u00d728 with its centre " +
    "of mass in the middle, as in MNIST.",
};

async function start() {
  try {
    info = await getJSON("/api/info");
  } catch (error) {
    setStatus(`Could not reach the model: ${error.message}`);
    return;
  }
  const accuracy = info.accuracy === null ? ""
    : ` \u00b7 test accuracy ${(100 * info.accuracy).toFixed(1)}% on ${info.n_test} images`;
  document.getElementById("about").textContent = info.description + accuracy;
  document.getElementById("seen-caption").textContent = CAPTIONS[info.kind];
  const bars = document.getElementById("bars");
  for (const label of info.classes) {
    const li = document.createElement("li");
    li.innerHTML = '<span class="label"></span><span class="bar"><span class="fill">' +
      '</span></span><span class="pct">0.0%</span>';
    li.querySelector(".label").textContent = String(label);
    bars.append(li);
  }
  read();
  showSamples();
}
start();
