// morphoquant-cli: the launcher. It answers --help, unknown commands and every usage error itself
// (usage.cpp; no libtorch is loaded, so they come at once), runs `eval` of a small full-precision
// model itself (plain_eval_cli.h), and hands every other command line that passes those checks to
// the engine, morphoquant-cli-engine, by exec with the same arguments: the
// engine then is this process (same pid, exit code, signals and resource usage).
//
// The engine is MQ_CLI_ENGINE when that is set, else morphoquant-cli-engine beside this program
// (the build tree), else MQ_ENGINE_RELATIVE_PATH from this program's folder (the install tree:
// ../libexec/morphoquant/morphoquant-cli-engine).
#include "plain_eval_cli.h"
#include "usage.h"

#include "common/process_env.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <unistd.h>

#ifndef MQ_ENGINE_RELATIVE_PATH
#define MQ_ENGINE_RELATIVE_PATH "../libexec/morphoquant/morphoquant-cli-engine"
#endif

namespace {

// The folder of this program: /proc/self/exe, else argv[0] when it names a path.
std::string ownDirectory(const char* argv0)
{
    std::string self;
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0)
        self.assign(buf, size_t(n));
    else if (argv0 && std::strchr(argv0, '/'))
        self = argv0;
    const auto slash = self.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : self.substr(0, slash);
}

std::vector<std::string> engineCandidates(const char* argv0)
{
    const char* env = std::getenv("MQ_CLI_ENGINE");
    if (env && *env)
        return {env};
    const std::string dir = ownDirectory(argv0);
    return {dir + "/morphoquant-cli-engine", dir + "/" + MQ_ENGINE_RELATIVE_PATH};
}

} // namespace

int main(int argc, char** argv)
{
    const int answered = mq::cli::answerHelp(argc, argv);
    if (answered >= 0)
        return answered;
    const std::string cmd = argv[1];
    const int checked = mq::cli::reportErrors(cmd, [&] {
        mq::cli::checkUsage(argc, argv);
        return 0;
    });
    if (checked != 0)
        return checked;

    // libtorch's OpenMP team and OpenBLAS's own threads share the cores. GNU OpenMP's threads
    // spin after each parallel region by default and take the core the next OpenBLAS GEMM needs
    // (and OpenBLAS's threads do the same to the next parallel region): with sleeping OpenMP
    // threads the statistics pass of a 7B layer costs 1.06x a plain forward instead of 1.15x at
    // 2 threads. And OpenBLAS 0.3.21 runs its SSE3 kernels on CPUs it does not know (bench/README.md).
    // Both runtimes read their variables when the engine loads them, so they are set here;
    // values the user set are kept.
    mq::core::setComputeEnvironment();
    // `eval` of a small full-precision model runs here, without LibTorch's start-up
    // (core/eval/plain_eval.h); everything else goes to the engine.
    if (cmd == "eval") {
        const int rc = mq::cli::runPlainEval(argc, argv);
        if (rc >= 0)
            return rc;
    }
    std::string tried;
    for (const std::string& engine : engineCandidates(argv[0])) {
        ::execv(engine.c_str(), argv); // returns only when it failed
        const int err = errno;
        tried += (tried.empty() ? "" : ", ") + engine + " (" + std::strerror(err) + ")";
    }
    const char* env = std::getenv("MQ_CLI_ENGINE");
    std::fprintf(stderr, "morphoquant-cli %s: error: cannot start the engine: tried %s%s\n", cmd.c_str(),
                 tried.c_str(),
                 env && *env ? " (named by MQ_CLI_ENGINE)"
                             : "; set MQ_CLI_ENGINE to the path of morphoquant-cli-engine");
    return 1;
}

// The launcher must not load libtorch (see usage.cpp).
#if defined(TORCH_CHECK) || defined(AT_ASSERT) || defined(C10_API)
#error "app/cli/launcher.cpp must stay libtorch-free"
#endif
