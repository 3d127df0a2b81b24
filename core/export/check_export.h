#pragma once
// check-export: a quantized model folder against the loading rules of compressed-tensors and
// vLLM (read in their source; ../shared/FORMATS.md sections 4 and 6) and of this tool's own
// formats, and the vLLM scheme that would serve it, or why none would. Our own rules, written
// from those facts:
//   - config.json: quantization_config with quant_method, format (a known compressed-tensors
//     format, or "mixed-precision" with one per group), quantization_status "compressed",
//     config_groups (targets, weights with a strategy that fits group_size; per-token inputs
//     dynamic), ignore (names or "re:" patterns);
//   - every decoder Linear either packed as its group's format says (names, dtypes, shapes,
//     weight_shape, zero points exactly when asymmetric, scales in the model's dtype; NVFP4
//     scales finite E4M3 bytes, positive global scales shared by fused q/k/v and gate/up) or
//     matched by ignore; nothing packed that ignore matches;
//   - the checkpoint's index and shards consistent (Checkpoint).
#include <string>
#include <vector>

namespace mq::core {

struct ExportCheck {
    std::string dir;
    std::string quantMethod;  // "compressed-tensors", "morphoquant", "morphoquant-sim", "" (none)
    std::string format;       // e.g. "pack-quantized"
    std::string scheme;       // the vLLM scheme that would serve it ("" when none)
    std::string why;          // when scheme is empty: why no vLLM scheme would
    int packedLinears = 0;
    int ignoredLinears = 0;
    std::vector<std::string> errors;   // rules broken: a loader would fail or compute something else
    std::vector<std::string> warnings; // loads, with a caveat
    bool ok() const { return errors.empty(); }
};

ExportCheck checkExport(const std::string& dir);
// The check as JSON text (check-export --json and the GUI).
std::string exportCheckJson(const ExportCheck& c);

} // namespace mq::core
