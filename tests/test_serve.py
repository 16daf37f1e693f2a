"""The drawing page's pieces: preprocessing, request checks, HTTP server, command line."""

import http.client
import json
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

from sknumpy_mlp import MLPScratchClassifier, save
from sknumpy_mlp.__main__ import main as cli_main
from sknumpy_mlp.datasets import load_digits_split
from sknumpy_mlp.serve import (
    DigitReader,
    RequestError,
    make_server,
    parse_drawing,
    preprocess,
    running,
)
from sknumpy_mlp.serve._cli import train_default
from sknumpy_mlp.serve._http import MAX_BODY
from sknumpy_mlp.serve._preprocess import _area_matrix


def stroke_image(size=280, segments=((140, 40, 140, 240),), width=22):
    """Ink of round-capped pen strokes (x0, y0, x1, y1), like the page's canvas."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    dist = np.full((size, size), np.inf)
    for x0, y0, x1, y1 in segments:
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
        dist = np.minimum(dist, np.hypot(xx - x0 - t * dx, yy - y0 - t * dy))
    return np.clip(width / 2 + 0.5 - dist, 0.0, 1.0)


# ------------------------------------------------------------------ preprocessing
def test_preprocess_digits_vertical_bar_is_the_expected_8x8():
    # A 200-pixel bar, 22 wide: fitted into 32x32 it is ~3 pixels wide, widened to
    # the digits' ink area (~312 of 1024 pixels: 9-10 columns), centred, counted.
    counts = preprocess(stroke_image()) * 16
    expected = np.tile([0, 0, 4, 16, 16, 4, 0, 0], (8, 1))
    np.testing.assert_array_equal(counts, expected)


def test_preprocess_digits_counts_blocks_of_a_filled_bitmap():
    # A drawing that already is a 32x32 bitmap of the right ink area goes through
    # unchanged: its 8x8 is the count of set pixels in each 4x4 block.
    rng = np.random.default_rng(0)
    bitmap = np.zeros((32, 32))
    bitmap[0, :] = bitmap[-1, :] = 1  # span the whole box, so no rescaling
    bitmap[1:-1] = rng.random((30, 32)) < 0.25
    counts = preprocess(bitmap) * 16
    expected = bitmap.reshape(8, 4, 8, 4).sum(axis=(1, 3))
    assert abs(bitmap.sum() - 312) < 40  # near the target: no widening chosen
    np.testing.assert_array_equal(counts, expected)


def test_preprocess_digits_ignores_position_and_size():
    seven = ((80, 50, 200, 50), (200, 50, 120, 240))
    small = tuple(tuple(v / 2 + 10 for v in seg) for seg in seven)
    big = preprocess(stroke_image(segments=seven))
    moved = preprocess(stroke_image(segments=small, width=11))
    assert np.abs(big - moved).max() <= 3 / 16
    assert set(np.unique(big * 16)) <= set(range(17))


def test_preprocess_mnist_fits_20x20_and_centres_the_mass():
    image = preprocess(stroke_image(segments=((60, 30, 90, 250),)), "mnist")
    assert image.shape == (28, 28) and 0 <= image.min() and image.max() <= 1
    rows, cols = np.nonzero(image > 0)
    assert rows.max() - rows.min() + 1 == 20  # the longer side fills the 20x20 box
    r, c = np.indices(image.shape)
    mass = image.sum()
    # centre of mass on the image's centre (14, 14) in pixel-centre coordinates
    assert abs((r * image).sum() / mass + 0.5 - 14) <= 0.5
    assert abs((c * image).sum() / mass + 0.5 - 14) <= 0.5


@pytest.mark.parametrize("kind, side", [("digits", 8), ("mnist", 28)])
def test_preprocess_blank_drawing_is_all_zero(kind, side):
    blank = preprocess(np.zeros((50, 70)), kind)
    np.testing.assert_array_equal(blank, np.zeros((side, side)))


def test_preprocess_rejects_bad_kind_and_shape():
    with pytest.raises(ValueError, match="kind"):
        preprocess(np.zeros((8, 8)), "cifar")
    with pytest.raises(ValueError, match="2-D"):
        preprocess(np.zeros((8, 8, 3)))


@pytest.mark.parametrize("n_out, n_in", [(8, 32), (32, 7), (20, 280), (3, 3)])
def test_area_matrix_averages(n_out, n_in):
    weights = _area_matrix(n_out, n_in)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)  # a mean of the input
    # ...and every input pixel counts as much in total: area is preserved
    np.testing.assert_allclose(weights.sum(axis=0), n_out / n_in)


# ---------------------------------------------------------------- request checks
def body(image):
    return json.dumps({"image": image}).encode()


def test_parse_drawing_scales_to_unit_range():
    ink = parse_drawing(body([[0, 255], [127.5, 0]]))
    np.testing.assert_allclose(ink, [[0, 1], [0.5, 0]])


@pytest.mark.parametrize("raw, message", [
    (b"not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"pixels": []}', "JSON object"),
    (body([]), "non-empty"),
    (body([1, 2, 3]), "non-empty"),
    (body([[1, 2], [3]]), "same length"),
    (body([[1, "2"]]), "numbers"),
    (body([[True, 0]]), "numbers"),
    (body([[[1]]]), "numbers"),
    (body([[0, 256]]), "between 0 and 255"),
    (body([[-1, 0]]), "between 0 and 255"),
    (b'{"image": [[NaN]]}', "not a number"),
    (b'{"image": [[1e400]]}', "between 0 and 255"),
    (b'{"image": [[' + b"9" * 400 + b"]]}", "between 0 and 255"),
    (body([[0] * 513]), "at most 512x512"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_parse_drawing_rejects(raw, message):
    with pytest.raises(RequestError, match=message):
        parse_drawing(raw)


def test_reader_needs_an_8x8_or_28x28_model():
    X, y = np.random.default_rng(0).random((20, 10)), np.arange(20) % 2
    model = MLPScratchClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="64 .* or 784"):
        DigitReader(model)


# ---------------------------------------------------------------------- server
@pytest.fixture(scope="module")
def digits_reader():
    X_train, y_train, X_test, y_test = load_digits_split()
    model = train_default(X_train, y_train, max_iter=60)
    return DigitReader(model, X_test, y_test, description="test model", random_state=0)


@pytest.fixture(scope="module")
def server(digits_reader):
    with running(make_server(digits_reader, port=0)) as srv:
        yield srv


def request(srv, method, path, data=None, headers=None):
    """(status, headers, parsed JSON or raw bytes) of one request."""
    conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=10)
    try:
        conn.request(method, path, body=data, headers=headers or {})
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    is_json = response.getheader("Content-Type") == "application/json"
    return response.status, response, json.loads(raw) if is_json else raw


def predict(srv, data, ctype="application/json"):
    return request(srv, "POST", "/api/predict", data, {"Content-Type": ctype})


def test_page_and_assets_are_served_with_a_strict_policy(server):
    status, response, html = request(server, "GET", "/")
    assert status == 200 and b'<canvas id="pad"' in html
    assert "default-src 'self'" in response.getheader("Content-Security-Policy")
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    for path, ctype in [("/app.js", "text/javascript"), ("/style.css", "text/css")]:
        status, response, _ = request(server, "GET", path)
        assert status == 200 and response.getheader("Content-Type").startswith(ctype)


def test_info_and_samples(server):
    status, _, info = request(server, "GET", "/api/info")
    assert status == 200 and info["kind"] == "digits" and info["side"] == 8
    assert info["classes"] == list(range(10)) and info["accuracy"] > 0.9
    status, _, reply = request(server, "GET", "/api/samples?n=5")
    assert status == 200 and len(reply["samples"]) == 5
    sample = reply["samples"][0]
    assert np.shape(sample["image"]) == (8, 8) and 0 <= sample["confidence"] <= 1
    assert {"label", "predicted"} <= set(sample)


def test_predict_reads_a_drawn_one(server):
    image = np.round(255 * stroke_image()).astype(int).tolist()
    status, _, reply = predict(server, body(image))
    assert status == 200 and reply["predicted"] == 1 and not reply["blank"]
    assert np.isclose(sum(reply["probabilities"]), 1, atol=1e-3)
    np.testing.assert_allclose(np.array(reply["model_input"]) * 16,
                               np.tile([0, 0, 4, 16, 16, 4, 0, 0], (8, 1)))


def test_predict_blank_canvas(server):
    status, _, reply = predict(server, body([[0] * 280] * 280))
    assert status == 200 and reply["blank"] and reply["predicted"] is None


@pytest.mark.parametrize("data, message", [
    (body([[1, 2], [3]]), "same length"),
    (b"{", "not valid JSON"),
    (body([[300]]), "between 0 and 255"),
])
def test_predict_bad_input_is_a_400_json_error(server, data, message):
    status, _, reply = predict(server, data)
    assert status == 400 and message in reply["error"]


@pytest.mark.parametrize("method, path, status, message", [
    ("GET", "/api/samples?n=0", 400, "from 1 to 48"),
    ("GET", "/api/samples?n=x", 400, "from 1 to 48"),
    ("GET", "/../../etc/passwd", 404, "no such page"),
    ("GET", "/static/index.html", 404, "no such page"),
    ("POST", "/api/info", 404, "no such endpoint"),
])
def test_unknown_paths_and_bad_queries(server, method, path, status, message):
    got, _, reply = request(server, method, path)
    assert got == status and message in reply["error"]


@pytest.mark.parametrize("raw, status", [
    (b"BREW /pot HTTP/1.0\r\n\r\n", 501),  # a method the server does not have
    (b"GET / HTTP/1.0\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431),  # too many headers
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.0\r\n\r\n", 414),
])
def test_malformed_requests_get_json_errors(server, raw, status):
    with socket.create_connection(server.server_address[:2], timeout=10) as sock:
        sock.sendall(raw)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, content = reply.partition(b"\r\n\r\n")
    assert head.split()[1] == str(status).encode()
    assert b"application/json" in head and "error" in json.loads(content)


def test_predict_wants_json_content_type(server):
    status, _, reply = predict(server, body([[0]]), ctype="text/plain")
    assert status == 415 and "application/json" in reply["error"]


def test_oversize_body_is_refused_unread():
    # Announce a body beyond MAX_BODY without sending it: the answer comes at once.
    reader = _FailingReader()
    with running(make_server(reader, port=0)) as srv:
        conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=10)
        conn.putrequest("POST", "/api/predict")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(MAX_BODY + 1))
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 413 and "at most" in json.loads(response.read())["error"]
        conn.close()
        conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=10)
        conn.putrequest("POST", "/api/predict")  # no Content-Length (e.g. chunked)
        conn.putheader("Content-Type", "application/json")
        conn.endheaders()
        assert conn.getresponse().status == 411
        conn.close()


def test_foreign_host_header_is_refused(server):
    status, _, reply = request(server, "GET", "/api/info", headers={"Host": "evil.test"})
    assert status == 403
    for host in ("localhost:8000", "127.0.0.1", "[::1]:80"):
        assert request(server, "GET", "/api/info", headers={"Host": host})[0] == 200


class _FailingReader:
    def read(self, ink):
        raise RuntimeError("boom")


def test_a_bug_is_a_500_json_error_not_a_traceback(capfd):
    with running(make_server(_FailingReader(), port=0)) as srv:
        status, _, reply = predict(srv, body([[0]]))
    assert status == 500 and reply == {"error": "internal error"}
    err = capfd.readouterr().err
    assert "RuntimeError: boom" in err and "Traceback" not in err


def test_server_stops_and_frees_its_port(digits_reader):
    with running(make_server(digits_reader, port=0)) as srv:
        address = srv.server_address[:2]
        assert srv.url == f"http://127.0.0.1:{address[1]}/"
        assert request(srv, "GET", "/api/info")[0] == 200
    with pytest.raises(ConnectionRefusedError):
        http.client.HTTPConnection(*address, timeout=2).request("GET", "/")


def test_other_hosts_only_when_asked(digits_reader):
    srv = make_server(digits_reader, "0.0.0.0", 0)
    try:
        assert not srv.loopback_only
    finally:
        srv.server_close()
    srv = make_server(digits_reader)
    try:
        assert srv.server_address[0] == "127.0.0.1" and srv.loopback_only
    finally:
        srv.server_close()


# ------------------------------------------------------------------ command line
def test_cli_dispatches_serve_and_shows_its_help(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["serve", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "python -m sknumpy_mlp serve" in out and "--host" in out


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "--port"),
    (["--max-iter", "-3"], "positive integer"),
    (["--model", "/nonexistent/model.npz"], "cannot load"),
    (["--data", "/nonexistent/folder"], "nonexistent"),
])
def test_cli_argument_errors_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["serve", *args])
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_cli_loads_a_saved_model(tmp_path, digits_reader):
    from sknumpy_mlp.serve._cli import build_parser, build_reader

    path = tmp_path / "digits.npz"
    save(digits_reader.model, path)
    parser = build_parser()
    reader = build_reader(parser.parse_args(["--model", str(path)]), parser)
    assert reader.kind == "digits" and reader.accuracy == digits_reader.accuracy


def write_idx(folder, n_train=60, n_test=20, seed=0):
    """A tiny MNIST-format folder: 28x28 uint8 images of bars at ten angles."""
    rng = np.random.default_rng(seed)
    for stem, n in [("train", n_train), ("t10k", n_test)]:
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        for i, label in enumerate(labels):
            angle = np.pi * label / 10
            t = np.linspace(-8, 8, 40)
            r = np.clip(np.round(14 + t * np.sin(angle) + rng.normal(0, .5)), 0, 27)
            c = np.clip(np.round(14 + t * np.cos(angle) + rng.normal(0, .5)), 0, 27)
            images[i, r.astype(int), c.astype(int)] = 255
        with open(folder / f"{stem}-images-idx3-ubyte", "wb") as f:
            f.write(bytes([0, 0, 8, 3]) + np.array([n, 28, 28], ">i4").tobytes())
            f.write(images.tobytes())
        with open(folder / f"{stem}-labels-idx1-ubyte", "wb") as f:
            f.write(bytes([0, 0, 8, 1]) + np.array([n], ">i4").tobytes() + labels.tobytes())


def test_cli_trains_on_idx_data_and_reads_28x28(tmp_path, capsys):
    from sknumpy_mlp.serve._cli import build_parser, build_reader

    write_idx(tmp_path)
    parser = build_parser()
    reader = build_reader(parser.parse_args(["--data", str(tmp_path), "--max-iter", "5"]),
                          parser)
    assert reader.kind == "mnist" and reader.info()["n_test"] == 20
    reply = reader.read(stroke_image())
    assert np.shape(reply["model_input"]) == (28, 28)
    assert np.shape(reader.samples(3)["samples"][0]["image"]) == (28, 28)
    assert "Trained on IDX files" in capsys.readouterr().out


def test_serve_command_starts_prints_its_address_and_stops_on_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "-m", "sknumpy_mlp", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Serving on"):
                break
        url = lines[-1].split()[2]
        assert url.startswith("http://127.0.0.1:")
        host, port = url[len("http://"):].rstrip("/").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/api/info")
        assert json.loads(conn.getresponse().read())["kind"] == "digits"
        conn.close()
        proc.send_signal(signal.SIGINT)
        # It stops within half a second (serve_forever's poll); the margin is for a
        # machine busy with other work, where 10 s once ran out.
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0 and "Stopped." in out and "Traceback" not in err
