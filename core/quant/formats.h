#pragma once
// Element and block formats of ../shared/FORMATS.md, bit-exact (tests/tst_formats.cpp checks each
// worked example there): FP4 E2M1, FP8 E4M3, BF16, NVFP4 (16-element blocks, E4M3 scales, a
// float32 global scale), MXFP4 (32-element blocks, E8M0 scales; the OCP floor rule or
// compressed-tensors' "even" rule), HiFloat8 and HiFloat4 (64-element units with an E6M2 scale
// and 1-bit micro-exponents), and compressed-tensors' int32 packing of 4-bit integers.
// Plain C++ on float arrays (no libtorch): quantize to codes, dequantize, pack.
#include <cstdint>
#include <string>
#include <vector>

namespace mq::core::fmt {

// ---- elements ----
// FP4 E2M1: codes 0..7 = 0, 0.5, 1, 1.5, 2, 3, 4, 6; bit 3 the sign. Round half to even with
// saturation at 6 (ties 0.25, 1.25, 2.5, 5 down; 0.75, 1.75, 3.5 up). NaN encodes as 0.
uint8_t e2m1Encode(float x);
float e2m1Decode(uint8_t code);

// FP8 E4M3 (float8_e4m3fn): bias 7, max 448, 0x7F/0xFF NaN, no infinity; round half to even,
// saturating at +-448.
uint8_t e4m3Encode(float x);
float e4m3Decode(uint8_t code);

// bfloat16 round half to even, as a float.
float bf16Round(float x);

// HiFloat8 (arXiv 2409.16626): rounding half away from zero (TA); |x| >= 40960 -> +-Inf (0x6F /
// 0xEF), or +-32768 (0x6E / 0xEE) when saturate; NaN -> 0x80; |x| < 2^-23 -> 0.
uint8_t hif8Encode(float x, bool saturate = false);
float hif8Decode(uint8_t code);

// ---- blocks ----
// NVFP4 of one row-major matrix [rows, cols] (cols a multiple of 16), compressed-tensors'
// convention: globalScale g = 448 * 6 / amax (a divisor; 1 when amax is 0), per 16-block
// scale s = e4m3(clamp(amax_b / 6 * g, 448)) (0 -> 0.125), codes E2M1(x / (s / g)),
// dequantized (q * s) / g. globalScale > 0 given: used instead of the tensor's own (a fused
// projection's shared one).
struct Nvfp4 {
    int64_t rows = 0, cols = 0;
    float globalScale = 1.f;
    std::vector<uint8_t> codes;  // rows * cols, one E2M1 code each
    std::vector<uint8_t> scales; // rows * cols / 16, E4M3 bytes
};
Nvfp4 nvfp4Quantize(const float* x, int64_t rows, int64_t cols, float globalScale = 0.f);
void nvfp4Dequantize(const Nvfp4& q, float* out);
// The tensor-wide divisor 448 * 6 / amax of compressed-tensors (1 for amax 0).
float nvfp4GlobalScale(float amax);

// MXFP4: 32-element blocks along cols (a multiple of 32), one E8M0 byte each (2^(e - 127));
// the shared exponent floor(log2 amax) - 2 (OCP; "even": amax's exponent rounded up when its
// mantissa is >= 1.75, compressed-tensors), clamped at -127; 0x00 for an all-zero block, 0xFF
// (NaN) for a block with Inf or NaN.
enum class MxRule { Floor, Even };
struct Mxfp4 {
    int64_t rows = 0, cols = 0;
    std::vector<uint8_t> codes;  // E2M1
    std::vector<uint8_t> scales; // E8M0 bytes, rows * cols / 32
};
Mxfp4 mxfp4Quantize(const float* x, int64_t rows, int64_t cols, MxRule rule = MxRule::Floor);
void mxfp4Dequantize(const Mxfp4& q, float* out);

// HiFloat4 (arXiv 2602.11287, the official simulator's arithmetic): 64-element units along cols
// (a multiple of 64) with an E6M2 base scale, 8 one-bit exponents (per 8 elements) and 16 (per
// 4); elements S1P2: sign and k/4, k = 0..7. 4.5 bits per value.
struct Hif4 {
    int64_t rows = 0, cols = 0;
    std::vector<uint8_t> codes;    // sign << 3 | k
    std::vector<float> scales;     // E6M2 base scale per unit (rows * cols / 64)
    std::vector<uint8_t> exp8;     // a_g per 8 elements (rows * cols / 8)
    std::vector<uint8_t> exp4;     // b_h per 4 elements (rows * cols / 4)
};
Hif4 hif4Quantize(const float* x, int64_t rows, int64_t cols);
void hif4Dequantize(const Hif4& q, float* out);

// bitsandbytes' signed 8-bit "dynamic" map (create_dynamic_map(signed=True,
// max_exponent_bits=7, total_bits=8)): 256 sorted float32 entries, 0 at index 127 and 1.0 at
// 255, torch.linspace's float32 arithmetic emulated (entries can differ from torch's by an ulp).
const std::vector<float>& dynamicMap8();
// QLoRA's double quantization of NF4 absmax values: offset = mean(absmax), the centred values
// quantized blockwise (256 per block, absmax2 per block in float32) to the nearest entry of
// dynamicMap8 (ties to the lower index); dequantized map[q] * absmax2 + offset.
struct DoubleQuant {
    float offset = 0.f;
    std::vector<uint8_t> codes;  // one per absmax
    std::vector<float> absmax2;  // one per 256 absmax values
};
DoubleQuant doubleQuantize(const std::vector<float>& absmax, int block = 256);
std::vector<float> doubleDequantize(const DoubleQuant& q, int block = 256);

// ---- packing ----
// Two 4-bit codes per byte, first element in the low nibble (NVFP4 / MXFP4 storage), or in the
// high nibble (NF4's bitsandbytes storage). An odd count leaves the last byte's other half 0.
std::vector<uint8_t> packNibbles(const std::vector<uint8_t>& codes, bool lowFirst = true);
std::vector<uint8_t> unpackNibbles(const std::vector<uint8_t>& bytes, size_t count, bool lowFirst = true);
// compressed-tensors pack_to_int32: signed 4-bit q in [-8, 7] stored as q + 8, element 8j + k
// of a row in bits 4k..4k+3 of word j (cols a multiple of 8).
std::vector<int32_t> packInt4ToInt32(const std::vector<int8_t>& q, int64_t rows, int64_t cols);
std::vector<int8_t> unpackInt32ToInt4(const std::vector<int32_t>& words, int64_t rows, int64_t cols);
// The same for 4 or 8 bits and any cols (compressed-tensors pack_to_int32 along dim 1): signed q
// in [-2^(bits-1), 2^(bits-1) - 1] stored as q + 2^(bits-1), element i of a row at bits
// (i * bits) % 32 of word i * bits / 32; each row takes ceil(cols * bits / 32) words (a partial
// last word is padded with zero bits). unpack reads cols values back per row.
std::vector<int32_t> packToInt32(const int8_t* q, int64_t rows, int64_t cols, int bits);
std::vector<int8_t> unpackFromInt32(const int32_t* words, int64_t rows, int64_t cols, int bits);
inline int64_t packedInt32Cols(int64_t cols, int bits) { return (cols * bits + 31) / 32; }

} // namespace mq::core::fmt
