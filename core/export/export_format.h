#pragma once
// The export formats (no libtorch: widgets and the CLI's options use this); what each one holds
// is described in export/packed_export.h and export/hf_export.h.
#include <string>
#include <vector>

namespace mq::core {

enum class ExportFormat { MorphoquantSim, CompressedTensors, Nvfp4, Morphoquant };
const char* exportFormatName(ExportFormat f); // "morphoquant-sim", "compressed-tensors", "nvfp4", "morphoquant"
ExportFormat parseExportFormat(const std::string& s); // throws InputError
// What serves a format, in a sentence (the GUI's export dialog and --help).
const char* exportFormatServedBy(ExportFormat f);

struct QuantSettings;
// "" when a plan with settings st can be written as f (as far as the settings tell: the NVFP4
// block size against the model's inputs is checked with the model, packed_export.h); otherwise
// which setting stands in the way and why.
std::string exportRefusal(const QuantSettings& st, ExportFormat f);
struct ModuleInfo;
// ... and the model's part: NVFP4 needs every Linear's inputs in whole 16-element blocks.
std::string exportRefusal(const QuantSettings& st, ExportFormat f, const std::vector<ModuleInfo>& modules);

} // namespace mq::core
