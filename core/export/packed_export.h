#pragma once
// Deployable exports: the plan's decoder Linears as packed low-bit tensors a serving stack reads
// (../shared/FORMATS.md sections 2, 4 and 6; README "Export formats").
//
//   compressed-tensors  quant_method "compressed-tensors". Integer weights of 4 or 8 bits, one
//                       scale per output channel or per group, symmetric or asymmetric:
//                       "pack-quantized" (weight_packed int32 [out, ceil(in*bits/32)], element i
//                       of a row at bits (i*bits)%32 of word i*bits/32 as q + 2^(bits-1);
//                       weight_scale in the model's dtype [out, groups]; weight_shape int64 [2];
//                       weight_zero_point int32 packed along dim 0 when asymmetric). Activations:
//                       none (W4A16, W8A16) or INT per-token dynamic symmetric (W4A4, W4A8), with
//                       format "pack-quantized" forced (vLLM's INT W4A4 scheme requires it); 8-bit
//                       weights with 8-bit activations (W8A8) as "int-quantized" (weight int8
//                       [out, in]).
//   nvfp4               "nvfp4-pack-quantized": weight_packed uint8 [out, in/2] (first element in
//                       the low nibble), weight_scale float8_e4m3fn [out, in/16],
//                       weight_global_scale and input_global_scale float32 [1] (divisors; one
//                       input group's Linears share them). Activations none or NVFP4.
//   morphoquant         quant_method "morphoquant": the integer weights packed as in
//                       compressed-tensors, plus what the method needs at run time per Linear:
//                       input_alpha float32 [in] (static per-channel clipping bounds) and
//                       input_dabc_mask uint8 [in] (channels compensated in 16 bits), or
//                       input_clip_ratio float32 [1] (per-token clipping).
// Every other tensor (embedding, norms, lm_head, encoders, talker, token2wav) is copied as stored
// and the modules are listed in "ignore". A plan a format cannot express is refused before
// anything is written (exportRefusal), and the written folder is checked (export/check_export.h)
// before it is renamed into place.
#include <functional>
#include <string>
#include <vector>

#include "common/progress.h"
#include "export/export_format.h"
#include "export/hf_export.h"
#include "model/decoder.h"
#include "session.h"

namespace mq::core {

class Checkpoint;



// The scale dtype a packed integer export stores (the model's dtype: bf16, f16 or f32), from the
// dtype of the checkpoint's first decoder Linear weight.
ScaleDtype modelScaleDtype(const std::string& modelDir);

// Writes the packed export (not MorphoquantSim: exportSimulated). Same contract as
// exportSimulated: atomic, overwrite, cancel, progress, shards of at most shardBytes with an index.
ExportSummary exportPacked(const DecoderModel& fp, const Session& s, ExportFormat f, const std::string& outDir,
                           bool overwrite, const CancelToken* cancel = nullptr, const ProgressSink& progress = {},
                           int64_t shardBytes = int64_t(2) << 30);

// For a folder whose config.json has a compressed-tensors or morphoquant quantization_config:
// the settings its activations run with (weights are used as stored), each packed Linear's
// weight registered on the checkpoint as a derived float32 tensor "<module>.weight", and the
// per-group hook parameters. Throws InputError naming the file, tensor and expectation for
// anything it cannot read.
struct PackedModelInfo {
    QuantSettings settings;
    std::string format;                  // "pack-quantized", "int-quantized", "nvfp4-pack-quantized", "morphoquant"
    std::function<void(Checkpoint&)> prepare; // for DecoderModel::load
};
bool isPackedConfig(const std::string& configPath);
PackedModelInfo readPackedConfig(const std::string& dir);
// The hook parameters of a packed export's input groups (after the model is loaded).
std::vector<GroupQuant> packedGroupQuant(const std::string& dir, const DecoderModel& model, const QuantSettings& st);

} // namespace mq::core
