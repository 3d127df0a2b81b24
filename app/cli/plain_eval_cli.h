#pragma once
// `eval` of a small full-precision model in the launcher, without LibTorch (core/eval/plain_eval.h).

namespace mq::cli {

// Runs `eval` here when the plain evaluation takes it and returns the exit code; -1 when the
// engine has to run the command (options it does not handle: --reference, --mem-budget; an MPI
// launcher; MQ_PLAIN_EVAL=0; a model or data file it does not take). MQ_PLAIN_EVAL=1 says on
// stderr why it handed the command over. Call it after usage checks and the compute environment.
int runPlainEval(int argc, char** argv);

} // namespace mq::cli
