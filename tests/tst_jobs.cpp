// The workbench's jobs on the real engine: stories260K is opened, calibrated, quantized and
// evaluated through the main window's JobController, as a person would through the menus.
// Checks: the views follow each job (live MDQFO curves while quantizing), Cancel stops a running
// quantization within a second and leaves the session exactly as it was, a failing job reports
// the engine's message in a dialog and keeps the session, the numbers the GUI shows are those
// `morphoquant-cli inspect --json` prints for the same session file, a tuning change recomputes
// masks and previews MDQFO on the engine's cached inputs, and the export dialog writes a
// reloadable folder and summarizes it.
//
// A subset of the calibration and evaluation files (8 sequences each) keeps the suite at tens of
// seconds on two cores; the figures need not be good, only consistent.
#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QProcess>
#include <QProcessEnvironment>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeView>
#include <QUndoStack>
#include <QDoubleSpinBox>
#include <QComboBox>
#include <QWheelEvent>
#include <QTextLayout>
#include <QGlyphRun>
#include <QRawFont>
#include <QAction>
#include <QDockWidget>
#include <QScreen>
#include <QtTest/QtTest>

#include <qcustomplot.h>

#include <cmath>
#include <map>
#include <memory>
#include <thread>

#include <sched.h>
#include <unistd.h>

#include "common/error.h"
#include "common/progress.h"
#include "export_dialog.h"
#include "job_controller.h"
#include "job_panel.h"
#include "layer_error_view.h"
#include "loss_curve_view.h"
#include "main_window.h"
#include "mask_job.h"
#include "mpi_job.h"
#include "preview_job.h"
#include "session.h"
#include "session_model.h"
#include "threshold_panel.h"

using namespace mq::core;
using namespace mq::ui;

namespace {

const QString kStories = QStringLiteral(MQ_SHARED_DIR "/models/stories260K");

// Everything a job could change in a session, as text: two sessions with the same digest hold
// the same model, statistics, plans (masks, thresholds, clipping bounds), curves, errors and
// evaluations. Floats are written with max_digits10, so equal text means equal values.
QString digest(const Session& s)
{
    QString out;
    QTextStream t(&out);
    t.setRealNumberPrecision(17);
    t << QString::fromStdString(s.model.path) << '|' << QString::fromStdString(s.model.fingerprint) << '|'
      << QString::fromStdString(s.calibration.source) << '|' << s.calibration.sequences << '|'
      << int(s.modules.size()) << '|' << int(s.groups.size()) << '\n';
    for (const auto& [g, st] : s.stats)
        t << QString::fromStdString(g) << ' ' << st.pooled.count << ' ' << st.pooled.channels << '\n';
    t << (s.settings ? QString::fromStdString(s.settings->label()) : QStringLiteral("no plan")) << '\n';
    for (const auto& [g, p] : s.plans) {
        t << QString::fromStdString(g) << ' ' << p.tauLocal << ' ' << p.tauGlobal << ' ';
        for (uint8_t m : p.mask)
            t << int(m);
        for (float a : p.alpha)
            t << ' ' << a;
        t << '\n';
    }
    for (const LossCurve& c : s.curves)
        t << QString::fromStdString(c.group) << ' ' << int(c.points.size()) << ' '
          << (c.points.empty() ? 0.0 : c.points.back().total) << '\n';
    for (const ModuleError& e : s.errors)
        t << QString::fromStdString(e.module) << ' ' << e.pooled.tokens << ' ' << e.pooled.sqnrDb << ' '
          << e.pooled.cosine << '\n';
    for (const EvalResult& e : s.evals)
        t << QString::fromStdString(e.label) << ' ' << e.ppl << '\n';
    return out;
}

// Spins the event loop until the running job ends (or `ms` pass); true when it ended.
bool waitForJob(MainWindow& w, int ms)
{
    QElapsedTimer t;
    t.start();
    while (w.jobs()->isRunning() && t.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    // Queued signals of the last moment (finished/cancelled) arrive with one more round.
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    return !w.jobs()->isRunning();
}

// The first `n` lines of a JSONL file, written to `to`.
bool headLines(const QString& from, const QString& to, int n)
{
    QFile in(from), out(to);
    if (!in.open(QIODevice::ReadOnly) || !out.open(QIODevice::WriteOnly))
        return false;
    for (int i = 0; i < n && !in.atEnd(); ++i)
        out.write(in.readLine());
    return true;
}

// Full module name -> row of the source model (module rows only).
std::map<QString, QModelIndex> moduleRows(const SessionModel& m)
{
    std::map<QString, QModelIndex> rows;
    for (int l = 0; l < m.rowCount(); ++l) {
        const QModelIndex layer = m.index(l, 0);
        for (int r = 0; r < m.rowCount(layer); ++r) {
            const QModelIndex i = m.index(r, SessionModel::NameColumn, layer);
            rows[i.data(Qt::ToolTipRole).toString().section(QLatin1Char('\n'), 0, 0)] = i;
        }
    }
    return rows;
}

} // namespace

class TestJobs : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void openCalibrateQuantize();
    void mpiLauncherJobsMatchInProcess();
    void cancelKeepsSession();
    void cancelEveryJobKind_data();
    void cancelEveryJobKind();
    void failureShowsDialogKeepsSession();
    void evaluateShowsPerplexity();
    void guiMatchesCliInspect();
    void tuningRecomputesMaskAndPreview();
    void cancelledPreviewDeliversNothing();
    void exportDialogWritesAndSummarizes();
    void commandLineWithoutDisplay();
    void wheelNeedsFocus();
    void undoWorksWithATuningFieldFocused();
    void cjkTextRendersWithGlyphs();
    void replacingTheSessionAsksLikeQuit();
    void resetLayoutAndFitToScreen();
    void etaFromSmoothedRate();
    void cleanupTestCase();

private:
    QTemporaryDir m_tmp;
    QString m_calib, m_eval;
    std::unique_ptr<MainWindow> m_w;
};

void TestJobs::initTestCase()
{
    if (!QFileInfo::exists(kStories + QStringLiteral("/config.json")))
        QSKIP("stories260K is not in ../shared/models");
    QVERIFY(m_tmp.isValid());
    m_calib = m_tmp.filePath(QStringLiteral("calib8.jsonl"));
    m_eval = m_tmp.filePath(QStringLiteral("eval8.jsonl"));
    QVERIFY(headLines(kStories + QStringLiteral("/calibration.jsonl"), m_calib, 8));
    QVERIFY(headLines(kStories + QStringLiteral("/evaluation.jsonl"), m_eval, 8));
    m_w = std::make_unique<MainWindow>();
    m_w->resize(1400, 900);
    m_w->show();
}

void TestJobs::openCalibrateQuantize()
{
    MainWindow& w = *m_w;
    QSignalSpy finished(w.jobs(), &JobController::finished);
    QSignalSpy failed(w.jobs(), &JobController::failed);

    QVERIFY(w.startOpenModel(kStories));
    QVERIFY(!w.startOpenModel(kStories)); // one job at a time
    QVERIFY(waitForJob(w, 60000));
    QCOMPARE(failed.count(), 0);
    QCOMPARE(finished.count(), 1);
    QVERIFY(w.session());
    QCOMPARE(int(w.session()->modules.size()), 5 * 7); // stories260K: 5 layers of 7 Linears
    QCOMPARE(int(w.session()->groups.size()), 5 * 4);  // qkv, o, gate_up, down per layer
    QCOMPARE(w.sessionModel()->rowCount(), 5);

    QVERIFY(w.startCalibration(m_calib, QStringLiteral("tokens"), 4));
    QVERIFY(waitForJob(w, 120000));
    QCOMPARE(failed.count(), 0);
    QCOMPARE(finished.count(), 2);
    QCOMPARE(w.session()->calibration.sequences, int64_t(8));
    QCOMPARE(int(w.session()->stats.size()), 20);
    QVERIFY(!w.moduleTree()->isColumnHidden(SessionModel::MaxScoreColumn));   // scores now
    QVERIFY(w.moduleTree()->isColumnHidden(SessionModel::SqnrColumn));        // no errors yet
    QVERIFY(w.moduleTree()->isColumnHidden(SessionModel::scoreColumn(Modality::Image))); // text only
    QVERIFY(w.isModified());

    // Quantize with the panel's settings (MorphoQuant W4A4, MDQFO on); every group's curve
    // reaches the loss view while the job runs.
    QVERIFY(w.quantSettings().mdqfo.enabled);
    QSignalSpy series(w.jobs(), &JobController::series);
    bool sawLive = false;
    QMetaObject::Connection c = connect(w.jobs(), &JobController::series, this, [&] {
        sawLive = sawLive || (w.lossCurveView()->isLive() && !w.lossCurveView()->totalGraph()->data()->isEmpty());
    });
    QVERIFY(w.startQuantize());
    QVERIFY(waitForJob(w, 300000));
    disconnect(c);
    QCOMPARE(failed.count(), 0);
    QCOMPARE(finished.count(), 3);
    const Session& s = *w.session();
    QVERIFY(s.settings.has_value());
    QCOMPARE(int(s.plans.size()), 20);
    QCOMPARE(int(s.errors.size()), 35);
    QCOMPARE(series.count(), 20); // one curve per input group, none dropped by the throttle
    QVERIFY(sawLive);
    QVERIFY(!w.lossCurveView()->isLive()); // back to the session's curves when the job ended
    // The live curve of each group is the curve the session keeps.
    for (const QList<QVariant>& args : series) {
        const QString group = args.at(1).toString();
        const SeriesMap data = args.at(2).value<SeriesMap>();
        const auto curve = std::find_if(s.curves.begin(), s.curves.end(),
                                        [&](const LossCurve& lc) { return lc.group == group.toStdString(); });
        QVERIFY2(curve != s.curves.end(), qPrintable(group));
        QCOMPARE(data.value(QStringLiteral("total")).size(), int(curve->points.size()));
        QCOMPARE(data.value(QStringLiteral("total")).last(), curve->points.back().total);
    }
    // The views show the new plan: error table rows, SQNR columns in the tree.
    QCOMPARE(w.layerErrorView()->model()->rowCount(), 35);
    QVERIFY(!w.moduleTree()->isColumnHidden(SessionModel::SqnrColumn));
}

// Calibrate and Quantize through a launcher command (mpi_job.h): with `taskset -c 0` as the launcher (one
// CLI process) the session holds what the in-process jobs computed, to float32 rounding (the
// forward in another process with another thread set-up: 1e-6 relative on the statistics' sums
// and extrema; the same groups, counts and recipe); where MPI was built, mpirun -n 2 gives the
// one CLI process's session exactly: extrema, counts, histograms and every plan bit equal, sums
// of |x| to 1e-12 relative (two ranks' partial sums added in another order). Through the window
// the job says "(MPI)"; a failing launcher's message reaches the caller; Cancel stops the
// command; hand-edited masks are refused.
void TestJobs::mpiLauncherJobsMatchInProcess()
{
    MainWindow& w = *m_w;
    QVERIFY(w.session() && w.session()->settings);
    const Session ref = *w.session();
    const QuantSettings settings = *ref.settings;
    CalibrationSourceSpec spec;
    spec.path = m_calib.toStdString();
    spec.kind = "tokens";
    spec.batchSize = 4;
    qputenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none");
    auto close = [](double a, double b, double rel) { return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)); };
    // Calibrate and quantize through `launcher`, and compare with `base` at `rel`
    // (0: extrema, histograms and plans exactly too).
    auto viaLauncher = [&](const QString& launcher, const Session& base, double rel, Session* out) {
        Session& s = *out;
        s = ref;
        CancelToken cancel;
        int events = 0;
        const ProgressSink count = [&](const ProgressEvent&) { ++events; };
        calibrateWithLauncher(s, spec, launcher, count, cancel);
        QVERIFY(!s.settings && s.plans.empty()); // the old plan went
        QCOMPARE(s.calibration.tokens, base.calibration.tokens);
        QCOMPARE(s.groups, base.groups);
        for (const auto& [g, st] : base.stats) {
            const ChannelStats &a = st.pooled, &b = s.stats.at(g).pooled;
            QCOMPARE(a.count, b.count);
            for (size_t c = 0; c < a.sumAbs.size(); ++c) {
                const bool ok = rel == 0.0
                    ? a.min[c] == b.min[c] && a.max[c] == b.max[c] && close(a.sumAbs[c], b.sumAbs[c], 1e-12)
                    : close(a.min[c], b.min[c], rel) && close(a.max[c], b.max[c], rel) && close(a.sumAbs[c], b.sumAbs[c], rel);
                QVERIFY2(ok, qPrintable(launcher + QStringLiteral(": ") + QString::fromStdString(g)));
            }
            if (rel == 0.0)
                QVERIFY2(a.hist == b.hist, g.c_str());
        }
        QVERIFY(events > 0); // the command's progress lines arrived
        quantizeWithLauncher(s, settings, launcher, {}, cancel);
        QVERIFY(s.settings);
        QCOMPARE(s.settings->label(), base.settings->label());
        QCOMPARE(s.plans.size(), base.plans.size());
        QCOMPARE(s.errors.size(), base.errors.size());
        if (rel == 0.0)
            for (const auto& [g, p] : base.plans) {
                QVERIFY2(p.mask == s.plans.at(g).mask, g.c_str());
                QVERIFY2(p.alpha == s.plans.at(g).alpha, g.c_str());
            }
        QCOMPARE(s.evals.size(), ref.evals.size()); // the window's results stay
    };
    Session one, two;
    int cpu = 0; // the first core this process may run on
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set))
            ++cpu;
    // One core: one thread, as each rank below.
    viaLauncher(QStringLiteral("taskset -c %1").arg(cpu), ref, 1e-6, &one);
    if (QTest::currentTestFailed())
        return;
#ifdef MQ_MPIEXEC
    viaLauncher(QStringLiteral(MQ_MPIEXEC " -n 2 --oversubscribe") + (::getuid() == 0 ? " --allow-run-as-root" : ""),
                one, 0.0, &two);
    if (QTest::currentTestFailed())
        return;
#endif
    const QStringList launchers{QStringLiteral("env MQ_LAUNCHED=1")};

    // Through the window: the job runs the launcher and says so.
    const QString before = mpiLauncher();
    setMpiLauncher(launchers.front());
    QSignalSpy started(w.jobs(), &JobController::started);
    QVERIFY(w.startCalibration(m_calib, QStringLiteral("tokens"), 4));
    QVERIFY(waitForJob(w, 120000));
    QVERIFY(!started.isEmpty() && started.last().at(0).toString().endsWith(QLatin1String("(MPI)")));
    setMpiLauncher(before);
    QVERIFY(w.startQuantize()); // back to the session as it was (in-process)
    QVERIFY(waitForJob(w, 300000));

    // A failing launcher: its exit code and last lines.
    Session s = ref;
    CancelToken cancel;
    try {
        calibrateWithLauncher(s, spec, QStringLiteral("false"), {}, cancel);
        QFAIL("a failing launcher must fail the job");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).contains(QLatin1String("failed with exit code 1")), e.what());
    }
    // Cancel stops the command (here one that would sleep for a minute).
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel.cancel();
    });
    QElapsedTimer clock;
    clock.start();
    bool cancelled = false;
    try {
        runCommand({QStringLiteral("sleep"), QStringLiteral("60")}, {}, cancel);
    } catch (const Cancelled&) {
        cancelled = true;
    }
    canceller.join();
    QVERIFY(cancelled);
    QVERIFY(clock.elapsed() < 20000);
    // Hand-edited masks stay in this process.
    Session edited = ref;
    edited.plans.begin()->second.handEdited.assign(edited.plans.begin()->second.mask.size(), 0);
    edited.plans.begin()->second.handEdited[0] = 1;
    CancelToken fresh;
    try {
        quantizeWithLauncher(edited, settings, launchers.front(), {}, fresh);
        QFAIL("hand edits cannot go to an MPI job");
    } catch (const InputError& e) {
        QVERIFY2(QString(e.what()).contains(QLatin1String("hand edits")), e.what());
    }
    // A launcher with a quote left open is refused before anything runs.
    QVERIFY_EXCEPTION_THROWN(launcherCommand(QStringLiteral("mpirun -n 2 'oops"), {}), InputError);
    QCOMPARE(launcherCommand(QStringLiteral("srun  --x 'a b'"), {QStringLiteral("calibrate")}).mid(0, 3),
             (QStringList{QStringLiteral("srun"), QStringLiteral("--x"), QStringLiteral("a b")}));
}

void TestJobs::cancelKeepsSession()
{
    MainWindow& w = *m_w;
    QVERIFY(w.session() && w.session()->settings);
    const QString before = digest(*w.session());
    const bool modifiedBefore = w.isModified();
    QSignalSpy progress(w.jobs(), &JobController::progress);
    QSignalSpy cancelled(w.jobs(), &JobController::cancelled);
    QSignalSpy finished(w.jobs(), &JobController::finished);

    QuantSettings other = w.quantSettings();
    other.abits = 8; // a different plan, so that a result landing by mistake would show
    w.setQuantSettings(other);
    QVERIFY(w.startQuantize());
    QVERIFY(w.jobPanel()->cancelButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(progress.count() > 0, 60000);
    QVERIFY(w.jobs()->isRunning());

    QElapsedTimer clock;
    clock.start();
    QTest::mouseClick(w.jobPanel()->cancelButton(), Qt::LeftButton);
    const int eventsAtCancel = progress.count();
    QVERIFY(waitForJob(w, 60000)); // a hang guard only, not the measure
    const qint64 ms = clock.elapsed();
    QCOMPARE(cancelled.count(), 1);
    QCOMPARE(finished.count(), 0);
    // The job stops at its next cancellation check: at most a few progress steps (one input
    // group or layer each, plus what was already queued) after the click, however loaded the
    // machine is. (A wall-clock bound here flaked on loaded machines; the time is reported.)
    const int after = progress.count() - eventsAtCancel;
    qInfo("cancel: %d progress events and %lld ms after the click", after, static_cast<long long>(ms));
    QVERIFY2(after <= 4, qPrintable(QStringLiteral("%1 progress steps after Cancel").arg(after)));
    QCOMPARE(digest(*w.session()), before);
    QCOMPARE(w.isModified(), modifiedBefore);
    QVERIFY(!w.jobPanel()->cancelButton()->isEnabled());
    // The tuning panel is back for the next try; undo the bit change for the tests below.
    QVERIFY(w.thresholdPanel()->isEnabled());
    w.undoStack()->undo();
    QCOMPARE(w.quantSettings().abits, 4);
}

// Cancel reaches every kind of job: each one stops at its first check after the click, ends
// with `cancelled` (never `finished` or `failed`), and leaves the window's session exactly as it
// was; an export leaves no folder and no temporary file behind.
void TestJobs::cancelEveryJobKind_data()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("calibrate") << QStringLiteral("calibrate");
    QTest::newRow("quantize") << QStringLiteral("quantize");
    QTest::newRow("evaluate") << QStringLiteral("evaluate");
    QTest::newRow("export") << QStringLiteral("export");
}

void TestJobs::cancelEveryJobKind()
{
    QFETCH(QString, kind);
    MainWindow& w = *m_w;
    QVERIFY(w.session() && w.session()->settings);
    const QString before = digest(*w.session());
    const bool modifiedBefore = w.isModified();
    QSignalSpy cancelled(w.jobs(), &JobController::cancelled);
    QSignalSpy finished(w.jobs(), &JobController::finished);
    QSignalSpy failed(w.jobs(), &JobController::failed);
    const QString outParent = m_tmp.filePath(QStringLiteral("cancelled-") + kind);
    QVERIFY(QDir().mkpath(outParent));
    const QString out = QDir(outParent).filePath(QStringLiteral("export"));

    bool started = false;
    if (kind == QLatin1String("calibrate"))
        started = w.startCalibration(m_calib, QStringLiteral("tokens"), 4);
    else if (kind == QLatin1String("quantize"))
        started = w.startQuantize();
    else if (kind == QLatin1String("evaluate"))
        started = w.startEvaluation(m_eval, true);
    else
        started = w.startExport(out, false, ExportFormat::MorphoquantSim, std::make_shared<ExportReport>());
    QVERIFY(started);
    QVERIFY(w.jobPanel()->cancelButton()->isEnabled());
    // The click lands before the worker's last cancellation check: every one of these jobs
    // reads data and runs the model (a tenth of a second at least, against microseconds for
    // the click), so a job that finished anyway would have no check on its path. (Opening a
    // model is left out: it reads only the config and the norms, and is done before a click.)
    QTest::mouseClick(w.jobPanel()->cancelButton(), Qt::LeftButton);
    QVERIFY(waitForJob(w, 120000)); // a hang guard only
    if (kind == QLatin1String("export") && finished.count() == 1) {
        // stories260K's export can pass its last check (just before the folder is renamed into
        // place) before the click lands: then it finished, completely, and says so.
        QCOMPARE(cancelled.count(), 0);
        QVERIFY(QFileInfo::exists(QDir(out).filePath(QStringLiteral("config.json"))));
        QVERIFY(QFileInfo::exists(QDir(out).filePath(QStringLiteral("model.safetensors"))));
        qInfo("the export was complete before Cancel landed");
        return;
    }
    QCOMPARE(cancelled.count(), 1);
    QCOMPARE(finished.count(), 0);
    QCOMPARE(failed.count(), 0);
    QCOMPARE(digest(*w.session()), before);
    QCOMPARE(w.isModified(), modifiedBefore);
    QVERIFY(!w.jobPanel()->cancelButton()->isEnabled());
    QVERIFY(w.thresholdPanel()->isEnabled());
    // Nothing of a cancelled export is left: no folder, no temporary sibling.
    QVERIFY(!QFileInfo::exists(out));
    QCOMPARE(QDir(outParent).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden), QStringList());
}

// A preview request cancelled before it completes never delivers (neither a result nor a
// failure), whether its worker stopped at a check or finished first; the next request does.
void TestJobs::cancelledPreviewDeliversNothing()
{
    MainWindow& w = *m_w;
    QVERIFY(w.session() && w.session()->settings);
    QVERIFY(w.engine().hasPreviewCache(*w.session()));
    PreviewJob* job = w.previewJob();
    QSignalSpy ready(job, &PreviewJob::previewReady);
    QSignalSpy failed(job, &PreviewJob::failed);
    const std::vector<std::string> groups = {"layers.1.qkv_in", "layers.1.o_in", "layers.1.gate_up_in",
                                             "layers.1.down_in"};
    for (const std::string& g : groups)
        QVERIFY2(w.session()->plans.count(g), g.c_str());
    QuantSettings st = w.quantSettings();
    st.mdqfo.p = 3.0;
    const quint64 first = job->request(*w.session(), groups, st);
    job->cancel();
    QVERIFY(job->latestId() > first);
    job->waitForWorkers();
    for (int i = 0; i < 5; ++i) // queued deliveries, if any, arrive now
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    QCOMPARE(ready.count(), 0);
    QCOMPARE(failed.count(), 0);

    const quint64 second = job->request(*w.session(), groups, st);
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1 || failed.count() > 0, 60000);
    QCOMPARE(failed.count(), 0);
    QCOMPARE(ready.at(0).at(0).value<quint64>(), second);
    QCOMPARE(int(ready.at(0).at(1).value<PreviewList>().size()), int(groups.size()));
}

void TestJobs::failureShowsDialogKeepsSession()
{
    MainWindow& w = *m_w;
    const QString before = digest(*w.session());
    const QString missing = m_tmp.filePath(QStringLiteral("no_such_calibration.jsonl"));
    // The error dialog is modal: read and close it from a timer while it is up.
    QString dialogText;
    QTimer closer;
    connect(&closer, &QTimer::timeout, this, [&] {
        QList<QWidget*> windows = QApplication::topLevelWidgets();
        windows << QApplication::activeModalWidget();
        for (QWidget* top : windows) {
            if (auto* box = qobject_cast<QMessageBox*>(top); box && box->isVisible()) {
                dialogText = box->text();
                box->accept();
            }
        }
    });
    closer.start(50);
    QSignalSpy failed(w.jobs(), &JobController::failed);
    QVERIFY(w.startCalibration(missing, QStringLiteral("tokens"), 4));
    QVERIFY(waitForJob(w, 30000));
    QTRY_VERIFY_WITH_TIMEOUT(!dialogText.isEmpty(), 5000);
    closer.stop();
    QCOMPARE(failed.count(), 1);
    // The engine's message names the file.
    QVERIFY2(dialogText.contains(missing), qPrintable(dialogText));
    QCOMPARE(failed.at(0).at(1).toString(), dialogText);
    QCOMPARE(digest(*w.session()), before);
    // The job log keeps a line of the failure.
    QVERIFY(w.jobPanel()->log()->count() >= 4);
}

void TestJobs::evaluateShowsPerplexity()
{
    MainWindow& w = *m_w;
    QSignalSpy failed(w.jobs(), &JobController::failed);
    QVERIFY(w.startEvaluation(m_eval, true));
    QVERIFY(waitForJob(w, 120000));
    QCOMPARE(failed.count(), 0);
    const Session& s = *w.session();
    QCOMPARE(int(s.evals.size()), 2);
    QCOMPARE(QString::fromStdString(s.evals[0].label), QStringLiteral("full precision"));
    QCOMPARE(s.evals[1].label, s.settings->label());
    const QString label = w.layerErrorView()->perplexityLabel()->text();
    for (const EvalResult& e : s.evals)
        QVERIFY2(label.contains(QString::number(e.ppl, 'f', 4)), qPrintable(label));
    // Again: results replace those of the same label and data instead of piling up.
    QVERIFY(w.startEvaluation(m_eval, true));
    QVERIFY(waitForJob(w, 120000));
    QCOMPARE(int(w.session()->evals.size()), 2);
}

void TestJobs::guiMatchesCliInspect()
{
    MainWindow& w = *m_w;
    const QString file = m_tmp.filePath(QStringLiteral("study.mqs"));
    QVERIFY(w.saveSession(file, true));
    QVERIFY(!w.isModified());

    QProcess cli;
    cli.start(QStringLiteral(MQ_BIN_DIR "/morphoquant-cli"), {QStringLiteral("inspect"), file, QStringLiteral("--json")});
    QVERIFY(cli.waitForFinished(60000));
    QCOMPARE(cli.exitCode(), 0);
    const QList<QByteArray> lines = cli.readAllStandardOutput().trimmed().split('\n');
    const QJsonObject j = QJsonDocument::fromJson(lines.last()).object();
    QVERIFY(!j.isEmpty());

    // What a person sees after opening that file in the GUI.
    MainWindow v;
    v.resize(1400, 900);
    QVERIFY(v.openSession(file, true));
    const std::map<QString, QModelIndex> tree = moduleRows(*v.sessionModel());
    const LayerErrorModel& table = *v.layerErrorView()->model();
    std::map<QString, int> tableRows;
    for (int r = 0; r < table.rowCount(); ++r)
        tableRows[table.index(r, 0).data(LayerErrorModel::ModuleRole).toString()] = r;

    // Figures go through HDF5 (double) and JSON (shortest round-trip decimal), so they compare
    // equal up to the last bit; 1e-12 relative leaves room for nothing but formatting.
    auto same = [](double a, double b) { return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b)); };
    const QJsonArray errors = j.value(QStringLiteral("errors")).toArray();
    QCOMPARE(errors.size(), 35);
    const int sqnrCol = table.columnOf(-1, false), cosCol = table.columnOf(-1, true);
    const int textSqnrCol = table.columnOf(int(Modality::Text), false);
    QVERIFY(sqnrCol >= 0 && cosCol >= 0 && textSqnrCol >= 0);
    for (const QJsonValue& ev : errors) {
        const QJsonObject e = ev.toObject();
        const QString module = e.value(QStringLiteral("module")).toString();
        const QJsonObject pooled = e.value(QStringLiteral("pooled")).toObject();
        QVERIFY2(tableRows.count(module), qPrintable(module));
        const int r = tableRows[module];
        const double sqnr = pooled.value(QStringLiteral("sqnr_db")).toDouble();
        QVERIFY2(same(table.index(r, sqnrCol).data(LayerErrorModel::SortRole).toDouble(), sqnr), qPrintable(module));
        QVERIFY(same(table.index(r, cosCol).data(LayerErrorModel::SortRole).toDouble(),
                     pooled.value(QStringLiteral("cosine")).toDouble()));
        QVERIFY(same(table.index(r, textSqnrCol).data(LayerErrorModel::SortRole).toDouble(),
                     e.value(QStringLiteral("text")).toObject().value(QStringLiteral("sqnr_db")).toDouble()));
        QVERIFY2(tree.count(module), qPrintable(module));
        const QModelIndex t = tree.at(module);
        QVERIFY(same(t.siblingAtColumn(SessionModel::SqnrColumn).data(SessionModel::SortRole).toDouble(), sqnr));
    }
    // Masked channels and the final MDQFO loss of each input group, in the tree's module rows.
    std::map<QString, QJsonObject> groups;
    for (const QJsonValue& g : j.value(QStringLiteral("groups")).toArray())
        groups[g.toObject().value(QStringLiteral("name")).toString()] = g.toObject();
    int checked = 0;
    for (const auto& [module, index] : tree) {
        const QString group = index.data(SessionModel::GroupRole).toString();
        QVERIFY2(groups.count(group), qPrintable(group));
        const QJsonObject& g = groups[group];
        QCOMPARE(index.siblingAtColumn(SessionModel::MaskedColumn).data().toInt(),
                 g.value(QStringLiteral("masked_channels")).toInt());
        QVERIFY(same(index.siblingAtColumn(SessionModel::LossColumn).data(SessionModel::SortRole).toDouble(),
                     g.value(QStringLiteral("mdqfo_loss_final")).toDouble()));
        ++checked;
    }
    QCOMPARE(checked, 35);
    // Perplexities as the table's header line shows them.
    const QString label = v.layerErrorView()->perplexityLabel()->text();
    const QJsonArray evals = j.value(QStringLiteral("evals")).toArray();
    QCOMPARE(evals.size(), 2);
    for (const QJsonValue& e : evals)
        QVERIFY2(label.contains(QString::number(e.toObject().value(QStringLiteral("ppl")).toDouble(), 'f', 4)),
                 qPrintable(label));
}

void TestJobs::tuningRecomputesMaskAndPreview()
{
    MainWindow& w = *m_w;
    const std::string group = "layers.1.o_in";
    w.selectGroup(QString::fromStdString(group));
    QVERIFY(w.engine().hasPreviewCache(*w.session()));
    const std::vector<uint8_t> maskBefore = w.session()->plans.at(group).mask;
    const std::vector<float> alphaBefore = w.session()->plans.at(group).alpha;

    // A lower k: the mask job recomputes every group's mask; more channels are compensated.
    QSignalSpy masks(w.maskJob(), &MaskJob::masksReady);
    QSignalSpy previewFailed(w.previewJob(), &PreviewJob::failed);
    QuantSettings st = w.quantSettings();
    st.dabc.k = 0.5;
    st.dabc.maxShare = 1.0; // no cap, so that the threshold alone decides
    w.setQuantSettings(st);
    QTRY_VERIFY_WITH_TIMEOUT(masks.count() > 0, 10000);
    // MDQFO's bounds depend on the mask: the preview of the current layer follows.
    QTRY_VERIFY2_WITH_TIMEOUT(!w.previewGroups().empty() || previewFailed.count() > 0,
                              qPrintable(w.statusBar()->currentMessage()), 20000);
    QVERIFY2(previewFailed.isEmpty(), qPrintable(previewFailed.isEmpty() ? QString() : previewFailed.at(0).at(1).toString()));
    const std::vector<uint8_t>& maskAfter = w.session()->plans.at(group).mask;
    int before = 0, after = 0;
    for (size_t c = 0; c < maskBefore.size(); ++c) {
        before += maskBefore[c];
        after += maskAfter[c];
        QVERIFY(maskAfter[c] >= maskBefore[c]); // a lower threshold only adds channels
    }
    QVERIFY2(after > before, qPrintable(QStringLiteral("%1 -> %2").arg(before).arg(after)));

    // A different p: MDQFO runs again on the cached inputs of the current layer's groups only.
    QSignalSpy previews(w.previewJob(), &PreviewJob::previewReady);
    st.mdqfo.p = 4.0;
    w.setQuantSettings(st);
    QTRY_VERIFY_WITH_TIMEOUT(previews.count() > 0, 20000);
    QVERIFY(w.previewGroups().count(group));
    for (const std::string& g : w.previewGroups())
        QCOMPARE(g.rfind("layers.1.", 0), size_t(0)); // the selected layer's groups, nothing else
    const std::vector<float>& alphaAfter = w.session()->plans.at(group).alpha;
    QCOMPARE(alphaAfter.size(), alphaBefore.size());
    QVERIFY(alphaAfter != alphaBefore);
    // The loss view draws the preview's curve of the selected group.
    const auto curve = std::find_if(w.session()->curves.begin(), w.session()->curves.end(),
                                    [&](const LossCurve& c) { return c.group == group; });
    QVERIFY(curve != w.session()->curves.end());
    QCPGraph* total = w.lossCurveView()->totalGraph();
    QCOMPARE(total->data()->size(), int(curve->points.size()));
    QCOMPARE((total->data()->constEnd() - 1)->value, curve->points.back().total);
    QVERIFY(w.isModified());
}

void TestJobs::exportDialogWritesAndSummarizes()
{
    MainWindow& w = *m_w;
    const QString out = m_tmp.filePath(QStringLiteral("export"));
    ExportDialog d(*w.session(), w.jobs(),
                   [&](const QString& dir, bool overwrite, ExportFormat format, std::shared_ptr<ExportReport> report) {
                       return w.startExport(dir, overwrite, format, std::move(report));
                   });
    // A MorphoQuant plan (static per-channel activations, DABC masks): the dialog offers the
    // morphoquant packed format first; compressed-tensors cannot hold it and says why.
    QCOMPARE(d.format(), ExportFormat::Morphoquant);
    QVERIFY(d.refusalLabel()->isHidden());
    d.formatBox()->setCurrentIndex(d.formatBox()->findData(int(ExportFormat::CompressedTensors)));
    QVERIFY2(d.refusalLabel()->text().contains(QStringLiteral("per-channel")), qPrintable(d.refusalLabel()->text()));
    QVERIFY(!d.exportButton()->isEnabled());
    QVERIFY(d.servedByLabel()->text().contains(QStringLiteral("vLLM")));
    if (qEnvironmentVariableIsSet("MQ_TEST_SCREENSHOTS")) { // for a person to look at
        d.show();
        d.grab().save(qEnvironmentVariable("MQ_TEST_SCREENSHOTS") + QStringLiteral("/export_dialog_refused.png"));
    }
    d.formatBox()->setCurrentIndex(d.formatBox()->findData(int(ExportFormat::Morphoquant)));
    QVERIFY(d.exportButton()->isEnabled());
    d.folderEdit()->setText(out);
    d.overwriteBox()->setChecked(false);
    d.startExport();
    QVERIFY(waitForJob(w, 120000));
    QVERIFY(d.report());
    const ExportReport r = *d.report();
    QVERIFY(r.tensors > 0 && r.bytes > 0);
    QVERIFY(r.maskedChannels > 0 && r.maskedChannels <= r.totalChannels);
    QCOMPARE(QString::fromStdString(r.label), QString::fromStdString(w.session()->settings->label()));
    QVERIFY(QFileInfo::exists(out + QStringLiteral("/config.json")));
    const QString summary = d.summaryLabel()->text();
    QVERIFY2(summary.contains(QString::number(r.tensors)) && summary.contains(QString::number(r.maskedChannels)),
             qPrintable(summary));
    QVERIFY(r.checked);
    QVERIFY2(summary.contains(QStringLiteral("passes the loading rules")), qPrintable(summary));
    QVERIFY(QFileInfo::exists(out + QStringLiteral("/model.safetensors")));
    if (qEnvironmentVariableIsSet("MQ_TEST_SCREENSHOTS"))
        d.grab().save(qEnvironmentVariable("MQ_TEST_SCREENSHOTS") + QStringLiteral("/export_dialog_done.png"));

    // The CLI evaluates the exported folder as the quantized model: same perplexity as the GUI's.
    QProcess cli;
    cli.start(QStringLiteral(MQ_BIN_DIR "/morphoquant-cli"),
              {QStringLiteral("eval"), QStringLiteral("--model"), out, QStringLiteral("--data"), m_eval, QStringLiteral("--json")});
    QVERIFY(cli.waitForFinished(120000));
    QCOMPARE(cli.exitCode(), 0);
    const QJsonObject j = QJsonDocument::fromJson(cli.readAllStandardOutput().trimmed().split('\n').last()).object();
    const EvalResult& q = w.session()->evals.back();
    QCOMPARE(QString::fromStdString(q.label), QString::fromStdString(w.session()->settings->label()));
    // Note: the GUI's evaluation was of the plan before the tuning test changed it, so compare
    // with a fresh evaluation of the current plan.
    QVERIFY(w.startEvaluation(m_eval, false));
    QVERIFY(waitForJob(w, 120000));
    const double ppl = w.session()->evals.back().ppl;
    // Same plan, same data, same kernels: equal to float32 reduction noise (1e-4 relative).
    QVERIFY2(std::abs(j.value(QStringLiteral("ppl")).toDouble() - ppl) <= 1e-4 * ppl,
             qPrintable(QStringLiteral("%1 vs %2").arg(j.value(QStringLiteral("ppl")).toDouble()).arg(ppl)));

    // A second export to the same folder without "replace" fails and leaves it as it was.
    const QDateTime stamp = QFileInfo(out + QStringLiteral("/config.json")).lastModified();
    w.setQuietErrors(true);
    d.startExport();
    QVERIFY(waitForJob(w, 30000));
    w.setQuietErrors(false);
    QVERIFY2(d.summaryLabel()->text().contains(out), qPrintable(d.summaryLabel()->text()));
    QCOMPARE(QFileInfo(out + QStringLiteral("/config.json")).lastModified(), stamp);
}

// The workbench's command line: --help and --version need no display (no X, no Wayland, no
// platform plugin), and an unknown --group is an error (exit 2) naming the session's groups.
void TestJobs::commandLineWithoutDisplay()
{
    const QString gui = QStringLiteral(MQ_BIN_DIR "/morphoquant");
    if (!QFileInfo::exists(gui))
        QSKIP("the workbench binary is not built");
    QProcessEnvironment bare = QProcessEnvironment::systemEnvironment();
    for (const char* v : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
        bare.remove(QString::fromLatin1(v));
    for (const QString& flag : {QStringLiteral("--help"), QStringLiteral("--version")}) {
        QProcess p;
        p.setProcessEnvironment(bare);
        p.start(gui, {flag});
        QVERIFY(p.waitForFinished(60000));
        const QString out = QString::fromUtf8(p.readAllStandardOutput());
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
                 qPrintable(flag + QStringLiteral(": ") + QString::fromUtf8(p.readAllStandardError())));
        if (flag == QLatin1String("--help")) {
            QVERIFY2(out.contains(QStringLiteral("--screenshot")) && out.contains(QStringLiteral("--group")), qPrintable(out));
        } else {
            QVERIFY2(out.contains(QStringLiteral("MorphoQuant Workbench")), qPrintable(out));
        }
    }
    const QString example = MainWindow::exampleSessionPath();
    if (example.isEmpty())
        QSKIP("no example session in this build");
    QProcess p;
    QProcessEnvironment offscreen = QProcessEnvironment::systemEnvironment();
    offscreen.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(offscreen);
    p.start(gui, {QStringLiteral("--screenshot"), m_tmp.filePath(QStringLiteral("never.png")), QStringLiteral("--group"),
                  QStringLiteral("layers.99.qkv_in"), example});
    QVERIFY(p.waitForFinished(60000));
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(p.exitCode(), 2);
    QVERIFY2(err.contains(QStringLiteral("unknown input group 'layers.99.qkv_in'")) && err.contains(QStringLiteral("layers.0.qkv_in")),
             qPrintable(err));
    QVERIFY(!QFileInfo::exists(m_tmp.filePath(QStringLiteral("never.png"))));
}

// A wheel turn over a tuning spin box or combo box without focus leaves its value (the panel
// scrolls instead); with the focus it edits as usual.
void TestJobs::wheelNeedsFocus()
{
    MainWindow& w = *m_w;
    QDoubleSpinBox* k = w.thresholdPanel()->kBox();
    QComboBox* solver = w.thresholdPanel()->solverBox();
    QVERIFY(k->isEnabled() && solver->isEnabled());
    auto turn = [](QWidget* target) {
        const QPointF at(target->width() / 2.0, target->height() / 2.0);
        QWheelEvent e(at, target->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
        QApplication::sendEvent(target, &e);
    };
    w.jobPanel()->setFocus();
    const double kBefore = k->value();
    const int solverBefore = solver->currentIndex();
    QVERIFY(!k->hasFocus());
    turn(k);
    turn(solver);
    QCOMPARE(k->value(), kBefore);
    QCOMPARE(solver->currentIndex(), solverBefore);
    QCOMPARE(k->focusPolicy(), Qt::StrongFocus);
    // Focused: the wheel edits (one step up), then the edit is undone for the tests after.
    w.activateWindow();
    k->setFocus();
    QTRY_VERIFY(k->hasFocus());
    turn(k);
    QVERIFY2(k->value() > kBefore, qPrintable(QString::number(k->value())));
    w.undoStack()->undo();
    QCOMPARE(k->value(), kBefore);
}

// Chinese and Japanese text is drawn with real glyphs, not the missing-glyph box (glyph 0):
// the set-up installs a CJK font (fonts-noto-cjk, scripts/deps.sh) and fontconfig falls back to
// it from the window's font. The language menu names each language in English too.
void TestJobs::cjkTextRendersWithGlyphs()
{
    const QString samples[] = {QStringLiteral("\u7b80\u4f53\u4e2d\u6587 \u91cf\u5316\u6821\u51c6"),        // zh_CN
                               QStringLiteral("\u65e5\u672c\u8a9e \u306e\u91cf\u5b50\u5316\u30c4\u30fc\u30eb")}; // ja
    for (const QString& text : samples) {
        QTextLayout layout(text, m_w->font());
        layout.beginLayout();
        layout.createLine();
        layout.endLayout();
        int glyphs = 0;
        for (const QGlyphRun& run : layout.glyphRuns()) {
            for (quint32 g : run.glyphIndexes()) {
                QVERIFY2(g != 0, qPrintable(QStringLiteral("'%1' has a missing glyph (font %2)")
                                                .arg(text, run.rawFont().familyName())));
                ++glyphs;
            }
        }
        QVERIFY2(glyphs >= text.size() - 1, qPrintable(QStringLiteral("%1 glyphs for '%2'").arg(glyphs).arg(text)));
    }
    QStringList names;
    for (QAction* a : m_w->findChildren<QAction*>())
        names << a->text();
    QVERIFY2(names.contains(QStringLiteral("\u7b80\u4f53\u4e2d\u6587 (Simplified Chinese)")), qPrintable(names.join(QLatin1Char('|'))));
    QVERIFY(names.contains(QStringLiteral("\u65e5\u672c\u8a9e (Japanese)")));
}

// Reload, Open, Open Example, a recent file and a new model replace the session: with unsaved
// changes they ask Save / Discard / Cancel as Quit does (confirmDiscard). Cancel keeps the
// session; Discard lets the replacement go on; Reload with Cancel leaves everything as it was.
void TestJobs::replacingTheSessionAsksLikeQuit()
{
    MainWindow& w = *m_w;
    QVERIFY(w.session());
    QVERIFY(w.isModified()); // the jobs above changed it and nothing saved it
    const QString before = digest(*w.session());
    QMessageBox::StandardButton press = QMessageBox::Cancel;
    QString asked;
    QTimer answer;
    connect(&answer, &QTimer::timeout, this, [&] {
        if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget()); box && box->isVisible()) {
            asked = box->text();
            box->button(press)->click();
        }
    });
    answer.start(20);
    QVERIFY(!w.confirmDiscard());
    QVERIFY2(asked.contains(QStringLiteral("not saved")), qPrintable(asked));
    asked.clear();
    press = QMessageBox::Discard;
    QVERIFY(w.confirmDiscard());
    QVERIFY(!asked.isEmpty());
    // Reload (F5) goes through the same question: Cancel keeps the session and its changes.
    asked.clear();
    press = QMessageBox::Cancel;
    QAction* reload = nullptr;
    for (QAction* a : w.findChildren<QAction*>())
        if (a->shortcut() == QKeySequence(QKeySequence::Refresh) || a->shortcut() == QKeySequence(Qt::Key_F5))
            reload = a;
    QVERIFY(reload);
    if (!w.sessionPath().isEmpty()) {
        reload->trigger();
        QVERIFY(!asked.isEmpty());
    }
    answer.stop();
    QCOMPARE(digest(*w.session()), before);
    QVERIFY(w.isModified());
}

// View > Reset Layout docks and shows every view again; a window larger than its screen (a
// geometry saved elsewhere) is fitted into the screen's available area.
void TestJobs::resetLayoutAndFitToScreen()
{
    MainWindow& w = *m_w;
    auto* loss = w.findChild<QDockWidget*>(QStringLiteral("lossDock"));
    auto* heat = w.findChild<QDockWidget*>(QStringLiteral("heatmapDock"));
    QVERIFY(loss && heat);
    loss->hide();
    heat->setFloating(true);
    QVERIFY(loss->isHidden() && heat->isFloating());
    QAction* reset = nullptr;
    for (QAction* a : w.findChildren<QAction*>())
        if (a->text() == MainWindow::tr("&Reset Layout"))
            reset = a;
    QVERIFY(reset);
    reset->trigger();
    for (QDockWidget* d : w.findChildren<QDockWidget*>()) {
        QVERIFY2(!d->isHidden(), qPrintable(d->objectName()));
        QVERIFY2(!d->isFloating(), qPrintable(d->objectName()));
    }
    QCOMPARE(w.dockWidgetArea(heat), Qt::RightDockWidgetArea);

    const QSize before = w.size();
    const QRect avail = w.screen()->availableGeometry();
    w.setGeometry(QRect(avail.topLeft() + QPoint(avail.width() / 2, 0), avail.size() * 2));
    w.fitToScreen();
    // The window shrinks to the screen, down to its own minimum size (the docks' minimum
    // sizes; more than the 800-pixel offscreen screen here), and its top-left corner is on the
    // screen (a few pixels of window frame aside).
    const QString where = QStringLiteral("%1,%2 %3x%4 in %5x%6")
                              .arg(w.x()).arg(w.y()).arg(w.width()).arg(w.height())
                              .arg(avail.width()).arg(avail.height());
    QVERIFY2(w.width() <= std::max(avail.width(), w.minimumSizeHint().width()), qPrintable(where));
    QVERIFY2(w.height() <= std::max(avail.height(), w.minimumSizeHint().height()), qPrintable(where));
    QVERIFY2(avail.adjusted(-8, -8, 8, 8).contains(w.geometry().topLeft()), qPrintable(where));
    w.resize(before);
}

// The time left shown for a stage (core::EtaSmoother): unknown in its first second and below
// 1%; at a steady rate the plain estimate; never below what the average rate so far gives (a
// quick start cannot promise "0.0s left"); after a slowdown it follows the recent, slower rate.
void TestJobs::etaFromSmoothedRate()
{
    mq::core::EtaSmoother eta(5.0);
    QCOMPARE(eta.update(0.0, 0.0), -1.0);
    QCOMPARE(eta.update(0.5, 0.20), -1.0); // the first second
    eta.reset();
    QCOMPARE(eta.update(2.0, 0.005), -1.0); // below 1%
    // Steady 1% per second: at 50 s, 50 s are left (the smoothed and the average rate agree;
    // 1e-9 relative: float arithmetic of exact steps).
    eta.reset();
    double left = -1;
    for (int t = 1; t <= 50; ++t)
        left = eta.update(double(t), t / 100.0);
    QVERIFY2(std::fabs(left - 50.0) <= 1e-9 * 50.0, qPrintable(QString::number(left, 'g', 12)));
    // 20% in the first 2 s, then 0.1% per second: the average (1 s at 20%... ) is optimistic,
    // the smoothed rate catches the slowdown; the estimate is never below the average.
    eta.reset();
    eta.update(1.0, 0.10);
    eta.update(2.0, 0.20);
    double last = 0;
    for (int t = 3; t <= 40; ++t) {
        const double f = 0.20 + 0.001 * (t - 2);
        last = eta.update(double(t), f);
        const double average = t * (1.0 - f) / f;
        QVERIFY2(last >= average * (1.0 - 1e-12), qPrintable(QStringLiteral("t %1: %2 < %3").arg(t).arg(last).arg(average)));
    }
    // at 40 s: 23.8% done, 0.1%/s recent: about 762 s left; the average says 128 s
    QVERIFY2(last > 500.0, qPrintable(QString::number(last)));
    QCOMPARE(eta.update(41.0, 1.0), 0.0);
}

// Ctrl+Z with a tuning spin box focused undoes the last tuning edit on the window's stack (not
// the spin box's own text), and Ctrl+Shift+Z redoes it.
void TestJobs::undoWorksWithATuningFieldFocused()
{
    MainWindow& w = *m_w;
    QDoubleSpinBox* k = w.thresholdPanel()->kBox();
    const double before = k->value();
    w.activateWindow();
    QApplication::setActiveWindow(&w);
    k->setFocus();
    QTRY_VERIFY(k->hasFocus());
    const int index = w.undoStack()->index();
    k->setValue(before + 0.25); // an edit: one command on the stack
    QTRY_COMPARE(w.undoStack()->index(), index + 1);
    QTest::keyClick(k, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(w.undoStack()->index(), index);
    QCOMPARE(k->value(), before);
    QTest::keyClick(k, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(w.undoStack()->index(), index + 1);
    QCOMPARE(k->value(), before + 0.25);
    w.undoStack()->undo();
    QCOMPARE(k->value(), before);
}

void TestJobs::cleanupTestCase()
{
    if (m_w) {
        m_w->jobs()->cancel();
        QVERIFY(m_w->jobs()->waitForWorker(10000));
    }
    m_w.reset();
}

QTEST_MAIN(TestJobs)
#include "tst_jobs.moc"
