// morphoquant-cli: the headless front end of the MorphoQuant engine.
#include "args.h"
#include "commands.h"

#include "common/error.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace {

const char* kHelp = R"(usage: morphoquant-cli COMMAND [options]

MorphoQuant Workbench, headless: modality-aware 4-bit post-training quantization
(DABC + MDQFO) of Llama / Qwen2-family decoders.

commands:
  eval       perplexity of a model folder (or of an exported quantized model)
  calibrate  statistics of every Linear input (per modality) into a session
  quantize   calibrate, plan (rtn or morphoquant), evaluate, save a session, export
  inspect    what a session file holds
  make-tiny-omni  write a tiny Qwen2.5-Omni checkpoint (real layout) for tests and demos
  make-synthetic  write a random checkpoint of a released shape (qwen2.5-7b) for benchmarks

`morphoquant-cli COMMAND --help` describes each command.
)";

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
        std::fputs(kHelp, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    try {
        if (cmd == "eval")
            return mq::cli::cmdEval(argc, argv);
        if (cmd == "quantize")
            return mq::cli::cmdQuantize(argc, argv);
        if (cmd == "inspect")
            return mq::cli::cmdInspect(argc, argv);
        if (cmd == "calibrate")
            return mq::cli::cmdCalibrate(argc, argv);
        if (cmd == "make-tiny-omni")
            return mq::cli::cmdMakeTinyOmni(argc, argv);
        if (cmd == "make-synthetic")
            return mq::cli::cmdMakeSynthetic(argc, argv);
        std::fprintf(stderr, "morphoquant-cli: unknown command '%s'\n\n%s", cmd.c_str(), kHelp);
        return 2;
    } catch (const mq::cli::UsageError& e) {
        std::fprintf(stderr, "morphoquant-cli %s: %s (see --help)\n", cmd.c_str(), e.what());
        return 2;
    } catch (const mq::core::Error& e) {
        std::fprintf(stderr, "morphoquant-cli %s: error: %s\n", cmd.c_str(), e.what());
        return 1;
    } catch (const c10::Error& e) {
        std::fprintf(stderr, "morphoquant-cli %s: internal tensor error: %s\n", cmd.c_str(), e.what_without_backtrace());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "morphoquant-cli %s: error: %s\n", cmd.c_str(), e.what());
        return 1;
    }
}
