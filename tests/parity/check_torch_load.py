#!/usr/bin/python3
"""C++ checkpoints into PyTorch: the models test_parity saved (with the name maps of torch_reference.py's layers)
load into ../shared/reference/torch_reference.py's ConvAE and VAE with load_state_dict(strict=True) and give the
outputs the C++ models gave.

  /usr/bin/python3 tests/parity/check_torch_load.py build/tests/parity_out      (needs python3-torch)
"""
import importlib.util
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def reference():
    path = os.path.join(HERE, "..", "..", "..", "shared", "reference", "torch_reference.py")
    spec = importlib.util.spec_from_file_location("torch_reference", path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    return ref


def load(model, path):
    state = {k: torch.from_numpy(v) for k, v in np.load(path).items()}
    model.load_state_dict(state, strict=True)  # every name, shape, buffer; num_batches_tracked is cast to int64
    return model.eval()


def main(out):
    ref = reference()
    failures = 0

    def compare(name, ours, theirs):
        nonlocal failures
        err = float(np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-30))
        ok = err < 1e-5
        failures += not ok
        print(f"{name}: {'ok' if ok else 'MISMATCH'} (max relative difference {err:.2e})")

    io = np.load(os.path.join(out, "cpp_conv_ae_io.npz"))
    conv = load(ref.ConvAE(), os.path.join(out, "cpp_conv_ae.npz"))
    with torch.no_grad():
        compare("C++ conv AE in PyTorch", conv(torch.from_numpy(io["in"])).numpy(), io["out"])

    io = np.load(os.path.join(out, "cpp_vae_small_io.npz"))
    vae = ref.VAE()  # the reference VAE's layers at the test's width, 784-16-(4, 4)-16-784
    vae.fc1, vae.fc21, vae.fc22 = torch.nn.Linear(784, 16), torch.nn.Linear(16, 4), torch.nn.Linear(16, 4)
    vae.fc3, vae.fc4 = torch.nn.Linear(4, 16), torch.nn.Linear(16, 784)
    load(vae, os.path.join(out, "cpp_vae_small.npz"))
    with torch.no_grad():
        x = torch.from_numpy(io["in"])
        mu = vae.fc21(F.relu(vae.fc1(x)))
        compare("C++ VAE in PyTorch (decoded mean)", torch.sigmoid(vae.fc4(F.relu(vae.fc3(mu)))).numpy(), io["out"])
    print(f"{2 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/tests/parity_out"))
