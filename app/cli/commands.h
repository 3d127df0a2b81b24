#pragma once
// The CLI's subcommands. Each returns the process exit code; errors propagate as exceptions
// (mq::core::Error, UsageError) to main(), which prints them. Each first checks its command line
// with usage.h (the checks the launcher, morphoquant-cli, makes without libtorch).
namespace mq::cli {

int cmdEval(int argc, char** argv);
int cmdQuantize(int argc, char** argv);
int cmdInspect(int argc, char** argv);
int cmdMakeTinyOmni(int argc, char** argv);
int cmdMakeSynthetic(int argc, char** argv);
int cmdCalibrate(int argc, char** argv);
int cmdSweep(int argc, char** argv);
int cmdCheckExport(int argc, char** argv);

} // namespace mq::cli
