#pragma once
// Export of a simulated quantized model as a Hugging Face folder that this engine reloads as
// the same quantized model ("morphoquant-sim" representation, format version 1):
//   config.json       the source config plus "quantization_config": {quant_method:
//                     "morphoquant-sim", format_version: 1, settings: {...}, groups: [...]}
//   model.safetensors every tensor of the source (or shards of 2 GB with an index); Linear weights hold their dequantized
//                     quantized values (F32, exactly on the quantization grid); per input group
//                     "morphoquant.<group>.act_alpha" (F32 [K]) and
//                     "morphoquant.<group>.dabc_mask" (U8 [K]) when static activations are used.
//   tokenizer and generation files of the source folder, copied.
// The folder is written under a temporary name and renamed into place: an interrupted export
// leaves no partial folder, and an existing folder is only replaced with overwrite = true.
#include <map>
#include <optional>
#include <string>

#include "common/progress.h"
#include "model/decoder.h"
#include "quant/quant_linear.h"
#include "session.h"

namespace mq::core {

struct ExportSummary {
    std::string dir;
    std::string representation; // "morphoquant-sim v1"
    int64_t tensors = 0;
    int64_t bytes = 0;
    int shards = 1;
    // Packed formats: check-export's verdict on the folder before it was renamed into place.
    bool checked = false;
    std::string scheme;    // the vLLM scheme that serves it ("" when none)
    std::string schemeWhy; // why none would
};

// fp: the full-precision model the session's plan was built for. Tensors are written one at a
// time into shards of at most shardBytes of data (one shard: model.safetensors; more:
// model-0000k-of-0000n.safetensors with model.safetensors.index.json); memory stays at one
// tensor. cancel is checked between tensors (a cancelled export leaves no folder); progress
// gets stage "export" by bytes written.
ExportSummary exportSimulated(const DecoderModel& fp, const Session& s, const std::string& outDir, bool overwrite,
                              const CancelToken* cancel = nullptr, const ProgressSink& progress = {},
                              int64_t shardBytes = int64_t(2) << 30);

// An export's record of the rotation its Linear weights are in (config.json's
// quantization_config.rotation), as JSON text: the key, how each matrix was built and a checksum
// of each, so that a reader rebuilds the very same matrices or refuses.
std::string rotationRecordJson(const DecoderModel& model, const std::string& key);

// An export's model and its plan must work in one basis (rotation key): Error otherwise; and a
// plan that quantizes the encoders is refused (InputError: the exports write the decoder only).
void checkPlanBasis(const DecoderModel& fp, const Session& s);

// A SmoothQuant plan's RMSNorm weights with 1/s folded in (float32, by tensor name): each
// layer's input_layernorm divided by its q/k/v group's factors and post_attention_layernorm by
// its gate/up group's, so that the export is the plain model the plan simulates (x / s computed
// by the norm). Empty without smoothing. Throws InputError for a plan that smooths a group no
// norm precedes (sessions of earlier versions) or a rotated one (its norms are folded already).
std::map<std::string, at::Tensor> smoothedNorms(const DecoderModel& fp, const Session& s);

// The tokenizer, processor and generation files of a model folder copied into an export.
void copyModelSideFiles(const std::string& fromDir, const std::string& toDir);

// A model folder for evaluation: a plain checkpoint, or an export above with its activation
// quantization (weights are used as stored, not quantized again).
struct LoadedModel {
    DecoderModel model;
    std::optional<QuantSettings> settings;   // set for an export
    std::vector<GroupQuant> groups;          // hook parameters for an export
};
LoadedModel loadModelForEval(const std::string& dir, Residency residency = Residency::Resident);

} // namespace mq::core
