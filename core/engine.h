#pragma once
// The engine as the workbench's jobs see it: every stage of a study on paths and plain value
// types (no libtorch in this header, so widgets may call it). An Engine keeps what is costly to
// rebuild between jobs: the loaded full-precision model (reused while the session's model path
// and fingerprint are the same) and, after quantize(), each input group's captured calibration
// input, so that a change of MDQFO's p or lambda_cos can be previewed on one layer at once
// (replanGroups) without a new pass over the calibration data.
//
// Every stage takes a ProgressSink (called on the calling thread) and a CancelToken; it works on
// a copy and assigns the session only when it completes, so a cancelled or failed stage leaves
// the session exactly as it was. The stages are serialized on an internal mutex: one Engine may
// be shared by a job thread and a preview thread. hasPreviewCache and replanGroups do not wait
// for a running stage: they read an immutable snapshot of the preview cache.
#include <memory>
#include <string>
#include <vector>

#include "common/progress.h"
#include "export/export_format.h"
#include "session.h"
#include "streaming_options.h"

namespace mq::core {

struct CalibrationSourceSpec {
    std::string path;
    std::string kind = "tokens"; // "tokens" | "manifest"
    int batchSize = 8;
    // The basis to calibrate in: "" or "hadamard:SEED" (quant/rotation_key.h); plans built on
    // the statistics work in it too.
    std::string rotation;
};

// What an export produced, with the figures a person checks afterwards.
struct ExportReport {
    std::string dir;
    std::string representation;   // "morphoquant-sim v1"
    int64_t tensors = 0;
    int64_t bytes = 0;
    std::string label;            // QuantSettings::label() of the exported plan
    int64_t maskedChannels = 0;   // DABC-compensated input channels over the decoder's groups
    int64_t totalChannels = 0;
    ExportFormat format = ExportFormat::MorphoquantSim;
    bool checked = false;         // packed formats: passed check-export before the rename
    std::string scheme;           // the vLLM scheme that would serve it ("" when none)
    std::string schemeWhy;        // why none would
};

// One group's result of a live MDQFO preview.
struct GroupPreview {
    std::string group;
    GroupPlan plan;   // the session's plan of the group with alpha (and alpha0) recomputed
    LossCurve curve;  // MDQFO's loss per step on the cached rows
};

class Engine {
public:
    Engine();
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Loads the model folder (or reuses the loaded one) and attaches it to the session:
    // model reference, modules, groups (clears stats and plans when the model differs).
    void openModel(Session& s, const std::string& dir, const ProgressSink& progress = {},
                   const CancelToken* cancel = nullptr);

    // Calibration statistics from a token JSONL or a Qwen2.5-Omni manifest; the model is the
    // session's (openModel first). Clears plan, curves, errors (they described old statistics).
    void calibrate(Session& s, const CalibrationSourceSpec& source, const ProgressSink& progress = {},
                   const CancelToken* cancel = nullptr);

    // buildPlan with the session's calibration source, then layerErrors. Caches each group's
    // captured input (at most previewRows rows each) for replanGroups.
    void quantize(Session& s, const QuantSettings& settings, const ProgressSink& progress = {},
                  const CancelToken* cancel = nullptr);

    // Session::errors of the current plan, measured on at most maxBatches calibration batches.
    void layerErrors(Session& s, int maxBatches = 2, const ProgressSink& progress = {},
                     const CancelToken* cancel = nullptr);

    // Perplexity of the quantized model on a token JSONL (and of the full-precision model when
    // fpToo); appends EvalResults (replacing earlier ones with the same label and data, in place).
    // Labels: "full precision" and QuantSettings::label(). With no plan only fpToo is possible
    // (Error otherwise).
    void evaluate(Session& s, const std::string& evalPath, bool fpToo, int batchSize = 8,
                  const ProgressSink& progress = {}, const CancelToken* cancel = nullptr);
    // The quantized model beside full precision on a Qwen2.5-Omni manifest (images, audio,
    // video placed as for calibration): perplexity over every position's next token and the KL
    // divergence per modality of the compared positions (EvalResult::klByModality).
    void evaluateManifest(Session& s, const std::string& manifestPath, bool fpToo,
                          const ProgressSink& progress = {}, const CancelToken* cancel = nullptr);

    // The plan as a morphoquant-sim folder (see export/hf_export.h); atomic, refuses to replace
    // an existing folder unless overwrite.
    // format: export/packed_export.h (compressed-tensors, nvfp4, morphoquant: packed tensors,
    // checked by check-export before they are renamed into place).
    ExportReport exportModel(const Session& s, const std::string& dir, bool overwrite,
                             const ProgressSink& progress = {}, const CancelToken* cancel = nullptr,
                             ExportFormat format = ExportFormat::MorphoquantSim);

    // Live preview: MDQFO again for `groups` with `settings` (masks from the session's plan,
    // inputs from the cache of the last quantize() of this session's model). Returns one
    // GroupPreview per group, in the order given; throws Error when nothing is cached for a
    // group (hasPreviewCache false: quantize first). The cache serves the plan of the run that
    // filled it (and plans tuned from it: same alpha0), not another run's. Does not touch the
    // session.
    bool hasPreviewCache(const Session& s) const;
    // The part of a session replanGroups and hasPreviewCache read (model and calibration
    // references, modules, groups, plans, settings): what a preview worker needs to copy.
    static Session previewInputs(const Session& s);
    std::vector<GroupPreview> replanGroups(const Session& s, const std::vector<std::string>& groups,
                                           const QuantSettings& settings, const CancelToken* cancel = nullptr);

    // Rows cached per input group by quantize() (every n-th captured row; float32, so a group
    // costs previewRows * K * 4 bytes). Read when quantize() starts.
    int previewRows = 4096;
    // ... and at most this many rows * K elements per group (a 7B down_proj group, K = 18944,
    // keeps 256 rows, which MDQFO previews within 0.5 s on 2 cores: bench/README.md).
    int64_t previewElements = 256 * 18944;
    // Whether quantize() keeps the preview cache at all (the GUI's live preview needs it; a
    // command-line run does not, and at 7B size it is ~80 MB per layer).
    bool keepPreviewCache = true;
    // Memory budget and spill folder of the layer-wise stages (streaming.h).
    StreamOptions streamOptions;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace mq::core
