// morphoquant-cli-engine: the headless front end of the MorphoQuant engine. The launcher
// (morphoquant-cli, launcher.cpp) checks the command line without libtorch and execs this
// program with the same arguments; it can also be run directly and answers the same way.
#include "args.h"
#include "commands.h"
#include "usage.h"

#include "common/dist.h"
#include "common/error.h"
#include "progress_printer.h"

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
    namespace dist = mq::core::dist;
    // Under an MPI launcher (mpirun, srun) the ranks split the work (core/common/dist.h).
    try {
        dist::init(&argc, &argv);
    } catch (const mq::core::Error& e) {
        std::fprintf(stderr, "morphoquant-cli %s: error: %s\n", cmd.c_str(), e.what());
        return 1;
    }
    if (dist::parallel()) {
        if (cmd != "calibrate" && cmd != "quantize" && cmd != "eval" && cmd != "sweep") {
            if (dist::rank() == 0)
                std::fprintf(stderr, "morphoquant-cli %s: runs in one process; only calibrate, quantize, eval and "
                                     "sweep split their work over MPI ranks (started with %d)\n",
                             cmd.c_str(), dist::size());
            dist::finalize();
            return 2;
        }
        if (dist::rank() != 0) { // rank 0 reports and writes; the others only compute
            if (!std::freopen("/dev/null", "w", stdout))
                std::fprintf(stderr, "morphoquant-cli: rank %d could not silence its output\n", dist::rank());
            mq::cli::ProgressPrinter::silenceAll();
        }
    }
    const int rc = mq::cli::reportErrors(cmd, [&] {
        try {
            return run(cmd, argc, argv);
        } catch (const c10::Error& e) {
            std::fprintf(stderr, "morphoquant-cli %s: internal tensor error: %s\n", cmd.c_str(),
                         e.what_without_backtrace());
            return 1;
        }
    });
    if (rc != 0 && dist::parallel()) {
        // The other ranks may wait in a collective for this one: end the whole job now, before
        // any rank writes (rank 0 writes only after every rank's work is in).
        std::fprintf(stderr, "morphoquant-cli %s: rank %d of %d failed (exit %d); ending the whole job, nothing was "
                             "written\n",
                     cmd.c_str(), dist::rank(), dist::size(), rc);
        std::fflush(stderr);
        dist::abortJob(rc);
    }
    dist::finalize();
    return rc;
}
