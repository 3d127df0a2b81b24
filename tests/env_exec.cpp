// mq_env_exec PROGRAM [ARGS...]: runs a test suite with the environment the CLI's launcher gives
// the engine (common/process_env.h: OMP_WAIT_POLICY, OPENBLAS_CORETYPE for this CPU), so that a
// suite and the CLI processes it starts use the same BLAS kernels.
#include "common/process_env.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: mq_env_exec PROGRAM [ARGS...]\n");
        return 2;
    }
    mq::core::setComputeEnvironment();
    ::execvp(argv[1], argv + 1);
    std::fprintf(stderr, "mq_env_exec: cannot run %s: %s\n", argv[1], std::strerror(errno));
    return 127;
}
