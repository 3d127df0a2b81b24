#pragma once
// Orthogonal rotations for QuaRot-style quantization (README, "Rotation"): the residual stream
// is turned by an orthogonal Q merged into the weights, and down_proj's input by an orthogonal
// H applied online, so that activation outliers are spread over all channels before they are
// quantized. The full-precision model computes the same function (up to float rounding).
//
// Matrices: a normalized Hadamard matrix where one can be built: Sylvester's for powers of two,
// else 2^k times an order m with a Paley construction (Paley I: m - 1 a prime = 3 mod 4;
// Paley II: m / 2 - 1 a prime = 1 mod 4), as a Kronecker product; else a seeded random
// orthogonal matrix (QR of a Gaussian matrix, signs fixed). Every row is then multiplied by a
// seeded random sign (a random-sign Hadamard, as QuaRot uses). Each matrix records how it was
// built (`how`), and the plan keeps it.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "quant/rotation_key.h"

namespace mq::core {

class DecoderModel;

// The unnormalized +-1 Hadamard matrix of order n (float64) when this code can build one (see
// above), else an undefined tensor. how: "sylvester 64", "paley2 148 x sylvester 128", ...
at::Tensor hadamardPlusMinusOne(int64_t n, std::string* how = nullptr);

// An n x n orthogonal matrix (float32): a random-sign normalized Hadamard matrix, or a seeded
// random orthogonal one where no Hadamard construction applies.
at::Tensor randomOrthogonal(int64_t n, uint64_t seed, std::string* how = nullptr);

struct Rotation {
    at::Tensor residual; // Q [hidden, hidden]
    at::Tensor down;     // H [intermediate, intermediate]
    at::Tensor head;     // [head_dim, head_dim] for hadamard-heads keys, else undefined
    std::string residualHow, downHow, headHow;
};

// The rotation of a decoder model's residual stream and down_proj inputs from a seed (heads:
// also the per-head value rotation, from seed + 2).
Rotation makeRotation(const DecoderModel& model, uint64_t seed, bool heads = false);

// model rotated as key says (quant/rotation_key.h; "" returns a copy of model). weightsInBasis:
// its Linear weights are rotated already (an export of a rotated plan); only the rest turns.
DecoderModel rotateModel(const DecoderModel& model, const std::string& key, bool weightsInBasis = false);

} // namespace mq::core
