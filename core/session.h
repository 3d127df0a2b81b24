#pragma once
// The study a person works on: what model, what calibration data, the statistics of every
// Linear input, the quantization plan, MDQFO loss curves and evaluation figures. Plain value
// types (no libtorch) shared by the engine, the CLI and the widgets; io/session_store.h reads
// and writes it as an HDF5 `.mqs` file.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "calib/channel_stats.h"
#include "quant/quant_settings.h"

namespace mq::core {

// Version 2: strings fixed-length (no variable-length strings: their global heap is where a
// damaged file crashed libhdf5); version 1 files (variable-length strings, also without /errors
// or calibration kind) still load.
constexpr int kSessionFormatVersion = 2;

// One Linear of the decoder, in network order.
struct ModuleInfo {
    std::string name;        // "model.layers.3.mlp.down_proj"
    int layer = -1;
    std::string kind;        // "q_proj", "k_proj", ..., "down_proj"
    std::string inputGroup;  // modules that see the same input share it: "model.layers.3.attn_in"
    int64_t inFeatures = 0;
    int64_t outFeatures = 0;
};

// Statistics of one input group, per modality and pooled over all of them.
struct InputStats {
    std::array<ChannelStats, kNumModalities> perModality;
    ChannelStats pooled;
};

struct ModelRef {
    std::string path;          // folder as given
    std::string fingerprint;   // "fnv1a64:<hex>" of config.json and every shard's header + size
    std::string architecture;  // "llama", "qwen2"
    std::string configJson;    // config.json verbatim
};

struct CalibrationInfo {
    std::string source;        // data file
    std::string kind = "tokens"; // "tokens" (JSONL input_ids) or "manifest" (Qwen2.5-Omni JSONL)
    int batchSize = 8;         // sequences per batch (tokens) as calibrated
    int64_t sequences = 0;
    std::array<int64_t, kNumModalities> tokens{}; // per modality
    // The basis the statistics were taken in: "" (the model's own) or "hadamard:SEED" (the
    // rotated model, quant/rotation.h). A plan built on them works in the same basis.
    std::string rotation;
    int64_t totalTokens() const;
};

// The plan of one Linear input group after DABC and MDQFO.
struct GroupPlan {
    std::vector<double> scores;   // D_c used for the mask (active form / source)
    std::vector<uint8_t> mask;    // 1 = channel compensated by DABC
    std::vector<uint8_t> handEdited; // 1 = mask bit set by hand, kept across recomputes
    double tauLocal = 0.0;        // mu_l + k sigma_l of this group
    double tauGlobal = 0.0;       // mu_g + k sigma_g over all groups
    std::vector<float> alpha0;    // initial clipping bound max|X_c|
    std::vector<float> alpha;     // clipping bound after MDQFO
    double tokenClip = 0.0;       // per-token or per-tensor activations: this group's clip ratio (0: the settings')
    std::vector<float> smooth;    // SmoothQuant's s_j of this group (empty: no smoothing)
};

struct LossPoint {
    int step = 0;
    double lp = 0.0;
    double lcos = 0.0;
    double total = 0.0;
};

struct LossCurve {
    std::string group;            // input group
    std::vector<LossPoint> points;
};

// Quantization error of one Linear's output over tokens of one modality (or pooled), the
// layer's own error: both outputs see the same full-precision input, one through the
// quantized weight and the plan's activation quantization.
//   sqnrDb = 10 log10( sum_t ||y_t||^2 / sum_t ||y_t - yq_t||^2 )
//   cosine = mean_t <y_t, yq_t> / (||y_t|| ||yq_t||)
struct ErrorStat {
    int64_t tokens = 0;        // 0: no token of this modality reached the module
    double sqnrDb = 0.0;
    double cosine = 0.0;
};

struct ModuleError {
    std::string module;        // ModuleInfo::name
    std::array<ErrorStat, kNumModalities> perModality;
    ErrorStat pooled;
};

struct EvalResult {
    std::string label;            // "fp", "morphoquant W4A4 (...)"
    std::string data;             // evaluation file
    double nll = 0.0;             // mean nats / predicted token
    double ppl = 0.0;
    int64_t tokens = 0;
    // Mean KL(full precision || this model) of the next-token distributions, nats per predicted
    // token; negative when not measured (full-precision results, older sessions).
    double kl = -1.0;
    // The same by the modality of the compared position (-1: not measured or no such
    // position; evaluation on a Qwen2.5-Omni manifest measures every modality present).
    std::array<double, kNumModalities> klByModality{-1.0, -1.0, -1.0, -1.0};
    std::array<int64_t, kNumModalities> tokensByModality{};
    // planFingerprint of the plan this result was measured under ("" for full-precision results,
    // which no plan changes, and for sessions written before 2026-11-30).
    std::string plan{};
    // Where the plan quantizes the encoders (--quantize-encoders) and the result is a manifest's:
    // each encoder's output error against full precision ("vision", "audio"; encoder_quant.h).
    std::vector<ModuleError> encoders{};
};

// A Linear's weight as a calibration-driven quantizer (GPTQ) chose it: codes and their scales
// (the simulation and exports read it from here). Dequantized value of a code u in group g:
//   int    scale_g * (u - zero_g), zero 2^(bits-1) when symmetric
//   nvfp4  E2M1(u) * scale_g, scale = E4M3 block scale / globalScale, groups of 16
//   mxfp4  E2M1(u) * scale_g, scale = 2^(E8M0 - 127), groups of 32
//   hif4   +-(u & 7) * scale_g (sign bit 8), scale = s * 2^(a+b) / 4, groups of 4 (quant/formats.h)
struct StoredWeight {
    std::string format = "int"; // "int" | "nvfp4" | "mxfp4" | "hif4"
    int64_t rows = 0, cols = 0;  // [out, in]
    int bits = 4;
    int64_t groupSize = 0;       // inputs per scale (int: cols for one per output channel)
    bool symmetric = true;
    float globalScale = 0.f;     // nvfp4: the tensor's divisor 448 * 6 / amax
    std::vector<uint8_t> codes;  // rows * cols, row-major, each in [0, 2^bits - 1]
    std::vector<float> scales;   // rows * (cols / groupSize)
    std::vector<float> zeros;    // int asymmetric: as scales (whole numbers); else empty
};

// The export folder a session's plan was written to, and its fingerprint then
// (modelFingerprint: config.json, every shard's header and size).
struct ExportRef {
    std::string path;
    std::string fingerprint;
};

struct Session {
    ModelRef model;
    std::optional<ExportRef> exported;          // set when the plan was exported with the session
    CalibrationInfo calibration;
    std::vector<ModuleInfo> modules;            // network order
    std::vector<std::string> groups;            // input groups, network order
    std::map<std::string, InputStats> stats;    // by input group
    std::optional<QuantSettings> settings;      // set once a plan exists
    std::map<std::string, GroupPlan> plans;     // by input group
    std::vector<LossCurve> curves;
    std::vector<EvalResult> evals;
    std::vector<ModuleError> errors;            // of the current plan, network order (may be empty)
    std::map<std::string, StoredWeight> weights; // by Linear name: weights the plan chose (GPTQ)
    // planFingerprint of the plan the layer errors, and the MDQFO loss curves, were measured
    // under ("": not known, sessions written before 2026-11-30).
    std::string resultsPlan{};
    std::string curvesPlan{};
    // The workbench's tuning-panel settings, saved with the session so that edits not yet
    // applied by a quantization run survive a save and reopen (unset: the plan's settings).
    std::optional<QuantSettings> tuning;

    const ModuleInfo* findModule(const std::string& name) const;
    // Members of an input group, in network order.
    std::vector<const ModuleInfo*> groupMembers(const std::string& group) const;
};

// A digest of everything a plan's results depend on: its settings and each group's mask,
// clipping bounds, clip ratio and smoothing factors (16 hex digits, FNV-1a 64; "" without a
// plan). Results carry the digest of the plan they were measured under, so a view can tell a
// figure of an earlier plan (after a mask edit or a threshold change) from a current one.
// Drops the plan and what was built on it (settings, plans, GPTQ weights, loss curves, layer
// errors): what new calibration statistics make stale.
void clearPlan(Session& s);

std::string planFingerprint(const Session& s);
// Whether a result measured under `measured` still describes s's plan ("" counts as current).
bool resultIsCurrent(const Session& s, const std::string& measured);

} // namespace mq::core
