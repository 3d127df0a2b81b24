#pragma once
// Everything of the command line that needs no libtorch: the help texts, each command's options,
// and every check of a command line that needs neither a model nor a tensor (required options,
// numbers, ranges, choices, options that go together). The launcher (morphoquant-cli, launcher.cpp)
// runs these checks and answers --help and usage errors at once; only a command line that passes
// them starts the engine (morphoquant-cli-engine, main.cpp + commands.cpp), whose commands call
// the same functions for the values they run with. No libtorch header may be reached from here.
#include "args.h"

#include "export/export_format.h"
#include "quant/quant_settings.h"
#include "streaming_options.h"

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mq::cli {

// One subcommand: its name, its `--help` text and the options Args accepts for it.
struct Command {
    std::string name;
    const char* help;
    std::set<std::string> valueOptions;
    std::set<std::string> flags;
};

// The subcommands, in the order of the top-level help; nullptr for an unknown name.
const std::vector<Command>& commands();
const Command* findCommand(const std::string& name);

// argv[2..] parsed with the command's options (UsageError on an unknown option or a missing value).
Args parseArgs(const std::string& command, int argc, char** argv);

// What needs no command to run: no command (the help on stderr, 2), --help / -h (0), an unknown
// command (2), `COMMAND --help` (0). Returns that exit code, or -1 when argv[1] is a command to run.
int answerHelp(int argc, char** argv);

// Runs body and turns its exceptions into the CLI's messages on stderr and exit codes:
// UsageError -> "morphoquant-cli CMD: MESSAGE (see --help)", 2; any other -> "... error: ...", 1.
int reportErrors(const std::string& command, const std::function<int()>& body);

// Every check of the launcher for `argv[1]` (a known command): throws what the engine would throw
// for the same command line before it opens any file.
void checkUsage(int argc, char** argv);

// The checked values of each command, in the order the engine always checked them: the first
// bad option of a command line gives the same message as before the launcher existed.
struct EvalOptions {
    int threads = 0; // 0: all cores
    std::string model, data;
    std::string reference; // --reference DIR: the full-precision model for the KL divergence
    core::StreamOptions stream;
    int batch = 8;
};
EvalOptions evalOptions(const Args& a);

struct QuantizeOptions {
    int threads = 0;
    bool cuda = false; // --device cuda: the GPU kernels (core::enableCudaKernels)
    core::QuantSettings settings;
    int wbits = 16; // as given (settings.weight holds the format it means)
    int batch = 8;
    std::string calibKind, calibPath; // "tokens" (--calib) or "manifest" (--manifest)
    std::string rotation;             // --rotate / --rotate-seed as a key ("" or "hadamard:SEED")
    std::string model, session, exportDir, evalPath, evalManifest;
    core::ExportFormat exportFormat = core::ExportFormat::MorphoquantSim; // --export-format
    bool scaleDtypeGiven = false; // --wscale-dtype given (else a packed integer export takes the model's dtype)
    std::string settingsFile;     // --settings: the engine reads the recipe from it (settings is a placeholder)
    core::StreamOptions stream;
};
QuantizeOptions quantizeOptions(const Args& a);

struct CheckExportOptions {
    std::string dir;
};
CheckExportOptions checkExportOptions(const Args& a);

struct CalibrateOptions {
    int threads = 0;
    bool cuda = false; // --device cuda: the GPU kernels (core::enableCudaKernels)
    int batch = 8;
    std::string calibKind, calibPath;
    std::string rotation;
    std::string model, session;
    core::StreamOptions stream;
};
CalibrateOptions calibrateOptions(const Args& a);

struct SyntheticOptions {
    std::string dir, shape;
    int layers = 0; // 0: the shape's own depth
    int seed = 0;
    std::optional<int> calibSequences, evalSequences, sequenceLength; // unset: core::SyntheticSpec's
};
// --shape is checked against core::syntheticShapes() (model/synthetic_shapes.h, torch-free).
SyntheticOptions syntheticOptions(const Args& a);

struct TinyOmniOptions {
    std::string dir;
    int seed = 0;
};
TinyOmniOptions tinyOmniOptions(const Args& a);

// One recipe of a recipe file: a name and quantize's options as tokens.
struct RecipeSpec {
    std::string name;
    std::vector<std::string> tokens;
    std::string options; // the tokens joined by spaces
};
// A recipe file: a JSON array of {"name": "...", "options": "--method rtn ..." or [...]}, or
// {"recipes": [...]}, or one such object ({"name" optional}). InputError naming the file and
// the recipe for anything else.
std::vector<RecipeSpec> readRecipeFile(const std::string& path);

struct SweepOptions {
    int threads = 0;
    bool cuda = false; // --device cuda: the GPU kernels (core::enableCudaKernels)
    std::string model, calib, eval, recipes;
    std::string calibKind = "tokens"; // "manifest" with --manifest (Qwen2.5-Omni)
    std::string evalManifest;         // --eval-manifest: KL per modality
    int batch = 8;
    core::StreamOptions stream;
};
SweepOptions sweepOptions(const Args& a);
// One recipe's quantize options from its option tokens (quantize's checks; the sweep's model,
// calibration, batch, threads and memory budget): UsageError for a bad option or one the sweep
// sets itself.
QuantizeOptions recipeOptions(const SweepOptions& sweep, const std::vector<std::string>& tokens);

// The session file inspect reads.
std::string inspectPath(const Args& a);

} // namespace mq::cli
