#include "mpi_job.h"

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/session_store.h"
#include "quant/rotation_key.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QTemporaryDir>

namespace mq::ui {

namespace {

const char* kLauncherKey = "mpi/launcher";

// --rotate / --rotate-seed of a rotation key ("" -> none).
QStringList rotationArgs(const std::string& key)
{
    if (key.empty())
        return {};
    const QString kind = QString::fromStdString(key.substr(0, key.find(':')));
    return {QStringLiteral("--rotate"), kind, QStringLiteral("--rotate-seed"),
            QString::number(qulonglong(core::rotationSeed(key)))};
}

QStringList sourceArgs(const std::string& kind, const std::string& path, int batch)
{
    return {kind == "manifest" ? QStringLiteral("--manifest") : QStringLiteral("--calib"), QString::fromStdString(path),
            QStringLiteral("--batch"), QString::number(batch)};
}

} // namespace

QString mpiLauncher()
{
    return QSettings().value(QLatin1String(kLauncherKey)).toString().trimmed();
}

void setMpiLauncher(const QString& command)
{
    QSettings().setValue(QLatin1String(kLauncherKey), command.trimmed());
}

QString cliProgram()
{
    const QDir here(QCoreApplication::applicationDirPath());
    for (const QString& c : {here.filePath(QStringLiteral("morphoquant-cli")),
                             here.filePath(QStringLiteral("../bin/morphoquant-cli"))})
        if (QFileInfo(c).isExecutable())
            return QFileInfo(c).absoluteFilePath();
    return QStringLiteral("morphoquant-cli"); // from PATH
}

QStringList launcherCommand(const QString& launcher, const QStringList& cliArgs)
{
    QStringList words;
    QString word;
    bool inWord = false;
    QChar quote;
    for (const QChar ch : launcher) {
        if (!quote.isNull()) {
            if (ch == quote)
                quote = QChar();
            else
                word += ch;
        } else if (ch == QLatin1Char('"') || ch == QLatin1Char('\'')) {
            quote = ch;
            inWord = true;
        } else if (ch.isSpace()) {
            if (inWord)
                words << word;
            word.clear();
            inWord = false;
        } else {
            word += ch;
            inWord = true;
        }
    }
    if (!quote.isNull())
        throw core::InputError("MPI launcher '" + launcher.toStdString() + "': a quote is not closed");
    if (inWord)
        words << word;
    return words + QStringList{cliProgram()} + cliArgs;
}

void runCommand(const QStringList& command, const core::ProgressSink& progress, const core::CancelToken& cancel)
{
    if (command.isEmpty())
        throw core::InputError("no command to run");
    QProcess p;
    p.setProcessChannelMode(QProcess::SeparateChannels);
    p.setStandardOutputFile(QProcess::nullDevice()); // the summary: the session carries the results
    p.start(command.front(), command.mid(1));
    if (!p.waitForStarted(30000))
        throw core::InputError("cannot start '" + command.front().toStdString() + "': " + p.errorString().toStdString());
    // "[stage]  12.5% message  elapsed ..." (app/cli/progress_printer.cpp, not a terminal)
    static const QRegularExpression line(QStringLiteral(R"(^\[([\w-]+)\]\s+([0-9.]+)% (.*?)(?:  elapsed .*)?$)"));
    QString pending, tail;
    auto drain = [&] {
        pending += QString::fromUtf8(p.readAllStandardError());
        int nl;
        while ((nl = pending.indexOf(QLatin1Char('\n'))) >= 0) {
            const QString l = pending.left(nl).trimmed();
            pending.remove(0, nl + 1);
            const QRegularExpressionMatch m = line.match(l);
            if (m.hasMatch()) {
                if (progress) {
                    core::ProgressEvent e;
                    e.stage = m.captured(1).toStdString();
                    e.fraction = m.captured(2).toDouble() / 100.0;
                    e.message = m.captured(3).toStdString();
                    progress(e);
                }
            } else if (!l.isEmpty()) {
                tail += l + QLatin1Char('\n'); // errors and the launcher's own messages
                if (tail.size() > 4000)
                    tail = tail.right(4000);
            }
        }
    };
    while (!p.waitForFinished(200)) {
        drain();
        if (cancel.isCancelled()) {
            p.terminate(); // mpirun passes SIGTERM on to every rank
            if (!p.waitForFinished(10000))
                p.kill();
            p.waitForFinished(5000);
            cancel.check(); // throws Cancelled
        }
        if (p.state() == QProcess::NotRunning)
            break;
    }
    drain();
    pending = pending.trimmed();
    if (!pending.isEmpty())
        tail += pending;
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        throw core::Error("the MPI job (" + command.join(QLatin1Char(' ')).toStdString() + ") failed with exit code "
                          + std::to_string(p.exitCode()) + ":\n" + tail.trimmed().toStdString());
}

void calibrateWithLauncher(core::Session& s, const core::CalibrationSourceSpec& spec, const QString& launcher,
                           const core::ProgressSink& progress, const core::CancelToken& cancel)
{
    if (s.model.path.empty())
        throw core::InputError("open a model folder first");
    QTemporaryDir tmp;
    if (!tmp.isValid())
        throw core::InputError("no temporary folder for the MPI job's session");
    const QString out = tmp.filePath(QStringLiteral("calibrated.mqs"));
    QStringList args{QStringLiteral("calibrate"), QStringLiteral("--model"), QString::fromStdString(s.model.path)};
    args << sourceArgs(spec.kind, spec.path, spec.batchSize) << rotationArgs(spec.rotation)
         << QStringLiteral("--session") << out;
    runCommand(launcherCommand(launcher, args), progress, cancel);
    const core::Session r = core::loadSession(out.toStdString());
    if (r.model.fingerprint != s.model.fingerprint)
        throw core::Error("the MPI job calibrated another model (" + r.model.path + ") than the session's ("
                          + s.model.path + ")");
    // What engine->calibrate changes (storeCalibration): the statistics and what they describe;
    // the plan built on the old ones goes.
    core::Session w = s;
    w.groups = r.groups;
    w.stats = r.stats;
    w.calibration = r.calibration;
    core::clearPlan(w);
    s = std::move(w);
}

void quantizeWithLauncher(core::Session& s, const core::QuantSettings& settings, const QString& launcher,
                          const core::ProgressSink& progress, const core::CancelToken& cancel)
{
    if (s.stats.empty() || s.calibration.source.empty())
        throw core::InputError("calibrate first: the plan is built from the calibration statistics");
    for (const auto& [group, plan] : s.plans)
        for (uint8_t edited : plan.handEdited)
            if (edited)
                throw core::InputError("the masks carry hand edits (input group '" + group
                                       + "'), which an MPI job cannot take along: quantize in this process "
                                         "(clear Settings \u2192 MPI Launcher) or undo the edits");
    QTemporaryDir tmp;
    if (!tmp.isValid())
        throw core::InputError("no temporary folder for the MPI job's files");
    const QString settingsPath = tmp.filePath(QStringLiteral("settings.json"));
    core::QuantSettings st = settings;
    st.rotation = s.calibration.rotation; // the plan works in the statistics' basis
    core::writeFileAtomic(settingsPath.toStdString(), core::settingsToJson(st));
    const QString out = tmp.filePath(QStringLiteral("quantized.mqs"));
    QStringList args{QStringLiteral("quantize"), QStringLiteral("--model"), QString::fromStdString(s.model.path)};
    args << sourceArgs(s.calibration.kind, s.calibration.source, s.calibration.batchSize)
         << QStringLiteral("--settings") << settingsPath << QStringLiteral("--session") << out;
    runCommand(launcherCommand(launcher, args), progress, cancel);
    core::Session r = core::loadSession(out.toStdString());
    if (r.model.fingerprint != s.model.fingerprint)
        throw core::Error("the MPI job quantized another model (" + r.model.path + ") than the session's ("
                          + s.model.path + ")");
    // The job's session is this one recalibrated on the same source and planned; the window's
    // results and tuning stay.
    r.evals = s.evals;
    r.exported = s.exported;
    r.tuning = s.tuning;
    s = std::move(r);
}

} // namespace mq::ui
