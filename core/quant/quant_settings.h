#pragma once
// Plain value types describing a quantization run (no libtorch: widgets consume these).
#include <cstdint>
#include <string>
#include <vector>

namespace mq::core {

// Int, NF4: weight_quant.h; NVFP4, MXFP4, HiF4: the block formats of quant/formats.h
// (FORMATS.md), fake-quantized row by row along the input dimension (a partial last block is
// padded with zeros in the simulation; exports need whole blocks).
enum class WeightFormat { None, Int, NF4, NVFP4, MXFP4, HiF4 };
// Per-token activations: INT (symmetric or asymmetric per token, abits) or a block format of the
// token's row (NVFP4 with a static global scale from the calibration's max |x| of the group,
// MXFP4, HiF4), or HiF8 elements with no scale.
enum class ActFormat { Int, NVFP4, MXFP4, HiF8, HiF4 };
const char* actFormatName(ActFormat f);
// Whether GPTQ can round weights of format f: integer weights and the block formats (NVFP4,
// MXFP4, HiF4), not NF4's code book nor unquantized weights.
bool gptqRounds(WeightFormat f);
ActFormat parseActFormat(const std::string& s); // throws InputError

// The dtype integer weight scales are stored in: a compressed-tensors export keeps them in the
// model's dtype (bf16 / f16), so the quantizer rounds each scale to it before rounding the
// weights (the simulation is then the export, bit for bit).
enum class ScaleDtype { F32, BF16, F16 };
const char* scaleDtypeName(ScaleDtype d); // "f32", "bf16", "f16"
ScaleDtype parseScaleDtype(const std::string& s); // throws InputError

struct WeightQuantSpec {
    WeightFormat format = WeightFormat::None;
    int bits = 4;          // Int: 2..8
    int groupSize = 0;     // Int: 0 = one scale per output channel, else per group along K
    bool symmetric = true; // Int: symmetric [-qmax, qmax] with qmax = 2^(bits-1)-1, else [min(min, 0), max(max, 0)]
    int nf4Block = 64;     // NF4: absmax block over the flattened weight (QLoRA); absmax in fp32
    bool nf4DoubleQuant = false; // NF4: absmax values double-quantized (8-bit, blocks of 256; QLoRA)
    ScaleDtype scaleDtype = ScaleDtype::F32; // Int: scales rounded to this dtype
    bool perTensor = false; // Int: one scale (and zero point) for the whole weight instead
    std::string label() const; // "int4-sym-g128", "int4-sym-ch-bf16s", "int8-sym-t", "nf4-b64", "nvfp4", "fp"
};

// Activation granularity: one scale per token (dynamic), per channel (static, MorphoQuant's
// MDQFO bounds), or one per tensor: static (the calibration's range of the group's input) or
// dynamic (the range of each forward's input, every token of the batch: one scale per call, as a
// serving stack's dynamic per-tensor scale).
enum class ActScheme { None, PerTokenDynamic, PerChannelStatic, PerTensorDynamic, PerTensorStatic };
bool isPerTensor(ActScheme s);
const char* actSchemeName(ActScheme s);
ActScheme parseActScheme(const std::string& s); // throws InputError

// Which D_c formula is active (DESIGN.md "Dispersion score").
enum class DispersionForm {
    Paper, // |max - min| / log(||X_c||_1 + eps)
    Code   // |max - min| / log(1 + mean|X_c| + 1e-5)   (the authors' code)
};
const char* dispersionFormName(DispersionForm f);
DispersionForm parseDispersionForm(const std::string& s);

struct DabcSettings {
    bool enabled = true;
    double k = 2.0;            // tau = mu + k * sigma
    bool useLocal = true;      // threshold over this module's channels
    bool useGlobal = true;     // threshold over all modules' channels
    DispersionForm form = DispersionForm::Code;
    bool anyModality = false;  // false: pooled scores; true: outlier in any modality
    double rho = 0.0;          // element threshold: compensate |x| > rho * alpha_c only
    // Module kinds masked entirely. The authors' code forces every mlp.down_proj input (the
    // preset "authors"); our default is the pure Eq. 6 (empty list).
    std::vector<std::string> forceKinds;
    // At most this share of each group's channels is compensated (the highest D_c first; hand
    // edits are kept): a compensated element costs 16 bits, so 1/24 keeps 4-bit activations
    // within 4.5 effective bits per element (quant/cost.h). 1 = no cap (the authors' code).
    double maxShare = 1.0 / 24.0;
};

enum class MdqfoSolver { GridSearch, Adam };

struct MdqfoSettings {
    bool enabled = true;
    MdqfoSolver solver = MdqfoSolver::GridSearch;
    double p = 2.0;            // L_p exponent (paper 0.5; authors' configs 2 and 3)
    double lambdaCos = 1.0;    // weight of L_cos
    int ratios = 15;           // grid: r log-spaced over [rMin, rMax]
    double rMin = 0.6;
    double rMax = 1.0;
    double emaDecay = 0.9;     // EMA of per-channel scores over search batches
    int batchTokens = 512;     // tokens per search batch
    // Rows MDQFO optimizes on: every n-th captured row so that rows * K <= sampleElements
    // (alpha0 still comes from every row). 2^24 keeps a 7B down_proj group (K = 18944) at 885
    // rows and every stories260K group at all of its rows (bench/README.md). 0: every row.
    int64_t sampleElements = int64_t(1) << 24;
    int sampleRows = 0;        // > 0: at most this many rows instead (every n-th)
    int adamSteps = 100;
    double adamLr = 0.01;
};

// GPTQ (Frantar et al. 2023) as the weight quantizer: each Linear's weights rounded column by
// column, the rounding error spread over the columns not yet rounded through the inverse Hessian
// of its inputs, H = X^T X over the calibration rows (quant/gptq.h). Integer weights only.
struct GptqSettings {
    bool enabled = false;
    double damp = 0.01;     // H += damp * mean(diag H) * I
    int blockSize = 128;    // columns per lazy update
    bool actOrder = true;   // columns in order of decreasing diag(H)
    // Per-row (per-group) clip search before the rounding: scales from p * max|w| for the p in
    // {1, 1 - (1 - clipMin)/clipSteps, ..., clipMin} with the least diag(H)-weighted error.
    int clipSteps = 0;      // 0: no search (p = 1)
    double clipMin = 0.7;
    // GPTAQ-style target: the full-precision model's output W X_fp from the inputs the quantized
    // model gives the Linear, A = Q_act(X_q): GPTQ on W* = W (X_fp^T A)(A^T A)^-1 with H = A^T A,
    // which minimizes the same ||X_fp W^T - A Q^T|| (the rest is orthogonal to A's columns).
    bool fpTarget = false;
};

struct QuantSettings {
    std::string method = "rtn";     // "rtn" | "morphoquant"
    // "simulated" (the paper: W and X quantized separately) or "deployable" (DESIGN.md
    // "Deployability"): static per-channel activation scales s_c = alpha_c / qmax folded into the
    // weight before it is quantized, W' = Q(W diag(s)), so that an integer GEMM of W' with the
    // activation codes runs; the simulation uses Q(W diag(s)) diag(1/s) (also in the DABC term).
    std::string mode = "simulated";
    WeightQuantSpec weight;
    int abits = 16;                 // 16 = activations unquantized
    ActScheme act = ActScheme::None;
    // Per-token (and per-tensor) activations: scale from actClip * max|x_t| (values past it
    // clamp), and asymmetric (min/max of the token, a zero point per token) instead of symmetric.
    // Per tensor: the same over the whole input (dynamic) or the calibration's range (static).
    double actClip = 1.0;
    bool actAsym = false;
    ActFormat actFormat = ActFormat::Int; // non-int formats: per-token activations only
    // Per-token integer activations: a scale (and zero point) per group of this many channels
    // of each token instead of one per token (0); the group's channels must divide by it.
    int actGroupSize = 0;
    // > 0: each input group's clip ratio chosen on calibration rows instead, the one of
    // {1, 1 - 0.3/n, ..., 0.7} (n = actClipSearch) with the least output error
    // sum over the group's Linears ||(X - Q(X)) W^T||^2 (GroupPlan::tokenClip).
    int actClipSearch = 0;
    // The clip search scores each ratio by MDQFO's morphology loss of the quantized input (p and
    // lambda_cos of `mdqfo`) instead of the output error: MorphoQuant's objective driving a
    // per-token quantizer (CLI --aclip-objective morphology).
    bool actClipMorphology = false;
    GptqSettings gptq;
    // SmoothQuant (Xiao et al. 2023): each input group's channels divided by
    // s_j = max|X_j|^alpha / max|W_j|^(1 - alpha) (max |X_j| from the calibration statistics, max
    // |W_j| over the group's Linears' column j) and the weights' columns multiplied by s_j before
    // they are quantized: X W^T = (X / s)(W diag(s))^T. Deployed, 1/s folds into the preceding
    // norm or Linear; the simulation divides the input (GroupPlan::smooth).
    bool smooth = false;
    double smoothAlpha = 0.5;
    DabcSettings dabc;
    MdqfoSettings mdqfo;
    // The basis the plan works in: "" or "hadamard:SEED" (the calibration's; quant/rotation.h).
    std::string rotation;
    // Qwen2.5-Omni: the vision and audio encoders' Linears quantized too (CLI --quantize-encoders),
    // with the decoder's activation scheme, DABC and MDQFO on their own calibration statistics;
    // their weights are rounded to nearest in the same format (GPTQ and SmoothQuant stay with the
    // decoder), in no rotated basis. The decoder's plan then sees the quantized encoders' features.
    bool quantizeEncoders = false;
    std::string label() const;      // "morphoquant W4A4 (nf4-b64, per-channel-static, simulated)"
    // The recipe as its ordered passes, e.g. {"rotate hadamard-heads:0", "smooth 0.5",
    // "weights gptq int4-sym-ch (fp target)", "activations per-token int4"} (sessions and
    // exports carry it beside the settings; derived, never read back).
    std::vector<std::string> passes() const;
};

} // namespace mq::core
