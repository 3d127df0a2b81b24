// morphoquant-cli-engine: the headless front end of the MorphoQuant engine. The launcher
// (morphoquant-cli, launcher.cpp) checks the command line without libtorch and execs this
// program with the same arguments; it can also be run directly and answers the same way.
#include "args.h"
#include "commands.h"
#include "usage.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace {

int run(const std::string& cmd, int argc, char** argv)
{
    if (cmd == "eval")
        return mq::cli::cmdEval(argc, argv);
    if (cmd == "quantize")
        return mq::cli::cmdQuantize(argc, argv);
    if (cmd == "inspect")
        return mq::cli::cmdInspect(argc, argv);
    if (cmd == "calibrate")
        return mq::cli::cmdCalibrate(argc, argv);
    if (cmd == "check-export")
        return mq::cli::cmdCheckExport(argc, argv);
    if (cmd == "sweep")
        return mq::cli::cmdSweep(argc, argv);
    if (cmd == "make-tiny-omni")
        return mq::cli::cmdMakeTinyOmni(argc, argv);
    if (cmd == "make-synthetic")
        return mq::cli::cmdMakeSynthetic(argc, argv);
    throw std::logic_error("no command '" + cmd + "'"); // answerHelp() answered unknown commands
}

} // namespace

int main(int argc, char** argv)
{
    const int answered = mq::cli::answerHelp(argc, argv);
    if (answered >= 0)
        return answered;
    const std::string cmd = argv[1];
    return mq::cli::reportErrors(cmd, [&] {
        try {
            return run(cmd, argc, argv);
        } catch (const c10::Error& e) {
            std::fprintf(stderr, "morphoquant-cli %s: internal tensor error: %s\n", cmd.c_str(),
                         e.what_without_backtrace());
            return 1;
        }
    });
}
