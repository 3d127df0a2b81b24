#pragma once
// The workbench's calibration and quantization as MPI jobs (README "Running on a cluster"): with
// an MPI launcher configured (Settings -> MPI Launcher, e.g. "mpirun -n 4 --hostfile hosts"),
// the job body runs `LAUNCHER morphoquant-cli calibrate|quantize ...` instead of the in-process
// engine, forwards the progress lines the command prints, stops it on Cancel, and takes the
// statistics (or the plan) from the session it writes. Job bodies run on the job's worker thread.
#include <QString>
#include <QStringList>

#include "common/progress.h"
#include "engine.h"
#include "session.h"

namespace mq::ui {

// The configured launcher command ("" when none: jobs run in-process). QSettings key
// "mpi/launcher".
QString mpiLauncher();
void setMpiLauncher(const QString& command);

// morphoquant-cli beside the workbench (the build tree's bin/, or the install's bindir).
QString cliProgram();

// The launcher's words and the CLI's arguments as one command line (the launcher split on
// whitespace, quotes honoured; InputError on an unbalanced quote).
QStringList launcherCommand(const QString& launcher, const QStringList& cliArgs);

// Calibrates s as engine->calibrate would (statistics, groups, calibration info; the plan and
// what depends on it cleared), through the launcher.
void calibrateWithLauncher(core::Session& s, const core::CalibrationSourceSpec& spec, const QString& launcher,
                           const core::ProgressSink& progress, const core::CancelToken& cancel);

// Builds the plan of `settings` on s's calibration source through the launcher (quantize
// --settings). Refused (InputError) where the session's masks carry hand edits, which the
// command line cannot carry.
void quantizeWithLauncher(core::Session& s, const core::QuantSettings& settings, const QString& launcher,
                          const core::ProgressSink& progress, const core::CancelToken& cancel);

// Runs program + args, forwarding its stderr's progress lines ("[stage]  12.5% message ...") to
// progress, killing it when cancel is set (then Cancelled is thrown); a non-zero exit throws
// Error with the command's last error lines. (Exposed for the tests.)
void runCommand(const QStringList& command, const core::ProgressSink& progress, const core::CancelToken& cancel);

} // namespace mq::ui
