#include "main_window.h"

#include "common/runtime.h"

#include "guide_dialog.h"
#include "sensitivity_view.h"
#include "compare_view.h"
#include "welcome_page.h"

#include "dispersion_heatmap_view.h"
#include "display_names.h"
#include "quant/dabc_mask.h"
#include "export_dialog.h"
#include "io/session_store.h"
#include "job_controller.h"
#include "job_panel.h"
#include "layer_error_view.h"
#include "loss_curve_view.h"
#include "mask_job.h"
#include "mask_view.h"
#include "mpi_job.h"
#include "common/error.h"
#include "outlier_view.h"
#include "plot_export.h"
#include "preview_job.h"
#include "session_model.h"
#include "threshold_panel.h"

#include <set>

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QInputDialog>
#include <QKeyEvent>
#include <QGuiApplication>
#include <QScreen>
#include <QAbstractSpinBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTextStream>
#include <QToolButton>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSignalBlocker>
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QTreeView>
#include <QUndoCommand>
#include <QTime>
#include <QTimer>
#include <QUndoStack>

#include <algorithm>
#include <cmath>

namespace mq::ui {

namespace {
// Spin boxes and combo boxes take the wheel only when they have the focus: scrolling a panel
// over them scrolls the panel instead of editing a value (and starting a recompute). And Undo /
// Redo reach the window's undo stack while one has the focus (a spin box's line edit would
// otherwise take Ctrl+Z for its own text).
class TuningFieldFilter : public QObject {
public:
    using QObject::QObject;
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() == QEvent::ShortcutOverride) {
            const QKeyCombination key = static_cast<QKeyEvent*>(event)->keyCombination();
            for (const QKeySequence& s : {QKeySequence(QKeySequence::Undo), QKeySequence(QKeySequence::Redo),
                                          QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)})
                if (s.count() == 1 && s[0] == key) {
                    event->ignore(); // not taken here: the window's Undo / Redo shortcut fires
                    return true;
                }
            return false;
        }
        if (event->type() == QEvent::Wheel) {
            auto* w = qobject_cast<QWidget*>(watched);
            if (w && !w->hasFocus()) {
                event->ignore(); // QApplication passes an ignored wheel event on to the parent
                return true;
            }
        }
        return false;
    }
};

constexpr int kMaxRecent = 8;
const char* kRecentKey = "recentFiles";

bool isSessionFile(const QUrl& url)
{
    return url.isLocalFile() && url.toLocalFile().endsWith(QLatin1String(".mqs"), Qt::CaseInsensitive);
}

bool isModelFolder(const QUrl& url)
{
    return url.isLocalFile() && QFileInfo(url.toLocalFile()).isDir()
        && QFileInfo::exists(QDir(url.toLocalFile()).filePath(QStringLiteral("config.json")));
}

// A calibration file's kind from its first record: token ids, or a Qwen2.5-Omni manifest.
QString guessDataKind(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text))
        return QStringLiteral("tokens");
    QTextStream in(&f);
    while (!in.atEnd()) {
        const QString line = in.readLine().trimmed();
        if (!line.isEmpty())
            return line.contains(QLatin1String("\"input_ids\"")) ? QStringLiteral("tokens") : QStringLiteral("manifest");
    }
    return QStringLiteral("tokens");
}

// A small dialog for a data file: path (with a browse button), optional kind and batch size or
// a check box. Returns false when cancelled.
struct DataFileChoice {
    QString path;
    QString kind = QStringLiteral("tokens");
    int batch = 8;
    bool check = false;
};

bool askDataFile(QWidget* parent, const QString& title, const QString& start, bool withKind, const QString& checkText,
                 DataFileChoice* out)
{
    QDialog d(parent);
    d.setWindowTitle(title);
    auto* path = new QLineEdit(start, &d);
    path->setMinimumWidth(420);
    auto* browse = new QToolButton(&d);
    browse->setText(QStringLiteral("..."));
    auto* kind = new QComboBox(&d);
    kind->addItem(MainWindow::tr("Token ids (JSONL with input_ids)"), QStringLiteral("tokens"));
    kind->addItem(MainWindow::tr("Qwen2.5-Omni manifest (JSONL with text, images, audio, video)"),
                  QStringLiteral("manifest"));
    auto* batch = new QSpinBox(&d);
    batch->setRange(1, 1024);
    batch->setValue(out->batch);
    auto* check = new QCheckBox(checkText, &d);
    check->setChecked(out->check);
    QObject::connect(browse, &QToolButton::clicked, &d, [&] {
        const QString f = QFileDialog::getOpenFileName(&d, title, path->text(),
                                                       MainWindow::tr("JSON lines (*.jsonl *.json);;All files (*)"));
        if (!f.isEmpty()) {
            path->setText(f);
            kind->setCurrentIndex(kind->findData(guessDataKind(f)));
        }
    });
    QObject::connect(path, &QLineEdit::editingFinished, &d,
                     [&] { kind->setCurrentIndex(kind->findData(guessDataKind(path->text()))); });
    auto* row = new QHBoxLayout;
    row->addWidget(path, 1);
    row->addWidget(browse);
    auto* form = new QFormLayout(&d);
    form->addRow(MainWindow::tr("File:"), row);
    if (withKind) {
        form->addRow(MainWindow::tr("Kind:"), kind);
        kind->setCurrentIndex(kind->findData(guessDataKind(start)));
    } else {
        kind->hide();
    }
    form->addRow(MainWindow::tr("Batch size:"), batch);
    if (!checkText.isEmpty())
        form->addRow(QString(), check);
    else
        check->hide();
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &d);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &d, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &d, &QDialog::reject);
    form->addRow(buttons);
    if (d.exec() != QDialog::Accepted || path->text().trimmed().isEmpty())
        return false;
    out->path = path->text().trimmed();
    out->kind = kind->currentData().toString();
    out->batch = batch->value();
    out->check = check->isChecked();
    return true;
}
} // namespace

// A tuning edit: redo/undo show the settings in the panel and recompute what they affect.
class QuantSettingsCommand : public QUndoCommand {
public:
    QuantSettingsCommand(MainWindow* w, const core::QuantSettings& before, const core::QuantSettings& after)
        : m_w(w), m_before(before), m_after(after)
    {
        if (before.dabc.k != after.dabc.k)
            setText(MainWindow::tr("k %1 \u2192 %2").arg(before.dabc.k).arg(after.dabc.k));
        else if (before.mdqfo.p != after.mdqfo.p)
            setText(MainWindow::tr("p %1 \u2192 %2").arg(before.mdqfo.p).arg(after.mdqfo.p));
        else if (before.mdqfo.lambdaCos != after.mdqfo.lambdaCos)
            setText(MainWindow::tr("\u03bb cos %1 \u2192 %2").arg(before.mdqfo.lambdaCos).arg(after.mdqfo.lambdaCos));
        else if (!ThresholdPanel::sameSettings(before.dabc, after.dabc))
            setText(MainWindow::tr("DABC threshold settings"));
        else
            setText(MainWindow::tr("Quantization settings"));
    }
    void redo() override { m_w->applyQuantSettings(m_after); }
    void undo() override { m_w->applyQuantSettings(m_before); }

private:
    MainWindow* m_w;
    core::QuantSettings m_before, m_after;
};

// A hand edit of one channel's mask bit; kept by later recomputes through its handEdited bit.
class ToggleChannelCommand : public QUndoCommand {
public:
    ToggleChannelCommand(MainWindow* w, const std::string& group, int channel, uint8_t mask, uint8_t hand)
        : m_w(w), m_group(group), m_channel(channel), m_mask(mask), m_hand(hand)
    {
        const QString g = QString::fromStdString(group);
        setText(mask ? MainWindow::tr("Unmask channel %1 of %2").arg(channel).arg(g)
                     : MainWindow::tr("Mask channel %1 of %2").arg(channel).arg(g));
    }
    void redo() override { m_w->setChannelMask(m_group, m_channel, uint8_t(!m_mask), 1); }
    void undo() override { m_w->setChannelMask(m_group, m_channel, m_mask, m_hand); }

private:
    MainWindow* m_w;
    std::string m_group;
    int m_channel;
    uint8_t m_mask, m_hand; // before the edit
};

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), m_engine(std::make_shared<core::Engine>())
{
    setWindowTitle(tr("MorphoQuant Workbench"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/morphoquant.svg")));
    resize(1400, 900);
    setAcceptDrops(true);
    setDockNestingEnabled(true);
    m_undo = new QUndoStack(this);
    m_job = new MaskJob(this);
    connect(m_job, &MaskJob::masksReady, this, [this](quint64, const PlanMap& plans) { onMasksReady(plans); });
    connect(m_job, &MaskJob::failed, this, [this](quint64, const QString& message) {
        statusBar()->showMessage(tr("Cannot compute the DABC mask: %1").arg(message));
    });
    m_preview = new PreviewJob(m_engine, this);
    connect(m_preview, &PreviewJob::previewReady, this,
            [this](quint64, const PreviewList& previews, double seconds) { onPreviewReady(previews, seconds); });
    connect(m_preview, &PreviewJob::failed, this, [this](quint64, const QString& message) {
        statusBar()->showMessage(tr("MDQFO preview failed: %1").arg(message));
    });
    m_jobs = new JobController(this);
    connect(m_jobs, &JobController::finished, this,
            [this](const QString&, const std::shared_ptr<core::Session>& result, const QString& summary, double) {
                auto done = std::move(m_onJobDone);
                m_onJobDone = nullptr;
                onJobEnded();
                if (done)
                    done(result);
                statusBar()->showMessage(summary, 10000);
            });
    // A quantization's MDQFO curves, group by group, while it runs.
    connect(m_jobs, &JobController::series, this, [this](const QString& stage, const QString& item, const SeriesMap& data) {
        if (stage != QLatin1String("mdqfo") || !data.contains(QStringLiteral("total")))
            return;
        core::LossCurve curve;
        curve.group = item.toStdString();
        const QVector<double> step = data.value(QStringLiteral("step")), lp = data.value(QStringLiteral("lp")),
                              lcos = data.value(QStringLiteral("lcos")), total = data.value(QStringLiteral("total"));
        for (int i = 0; i < total.size(); ++i)
            curve.points.push_back(core::LossPoint{i < step.size() ? int(step[i]) : i, i < lp.size() ? lp[i] : 0.0,
                                                   i < lcos.size() ? lcos[i] : 0.0, total[i]});
        if (!m_loss->isLive())
            m_lossDock->raise();
        m_loss->showLive(curve, tr("Running: MDQFO of %1").arg(item));
    });
    connect(m_jobs, &JobController::cancelled, this, [this](const QString& title, double) {
        m_onJobDone = nullptr;
        onJobEnded();
        statusBar()->showMessage(tr("%1 cancelled; the session is unchanged").arg(title), 10000);
    });
    connect(m_jobs, &JobController::failed, this, [this](const QString& title, const QString& message, double) {
        m_onJobDone = nullptr;
        onJobEnded();
        statusBar()->showMessage(tr("%1 failed").arg(title), 10000);
        // The engine's message names the file or tensor; the session stays open and intact.
        if (!m_quietErrors)
            QMessageBox::critical(this, tr("%1 failed").arg(title), message);
    });
    createDocks();
    m_welcome = new WelcomePage(this);
    connect(m_welcome, &WelcomePage::openExampleRequested, this, &MainWindow::openExample);
    connect(m_welcome, &WelcomePage::openSessionRequested, this, &MainWindow::openSessionDialog);
    connect(m_welcome, &WelcomePage::openModelRequested, this, &MainWindow::openModelDialog);
    connect(m_welcome, &WelcomePage::openRecentRequested, this, [this](const QString& path) {
        if (confirmDiscard())
            openSession(path);
    });
    connect(m_welcome, &WelcomePage::guideRequested, this, &MainWindow::showGuide);
    m_welcome->setExampleAvailable(!exampleSessionPath().isEmpty());
    createMenus();
    updateActionStates();

    m_modelLabel = new QLabel(this);
    m_planLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_modelLabel);
    statusBar()->addPermanentWidget(m_planLabel);
    statusBar()->showMessage(tr("Open a session (.mqs) or a model folder to start."));
    updateSummary();
    updatePlanStatus();
    auto* wheel = new TuningFieldFilter(this);
    for (QWidget* w : findChildren<QWidget*>())
        if (qobject_cast<QAbstractSpinBox*>(w) || qobject_cast<QComboBox*>(w)) {
            w->setFocusPolicy(Qt::StrongFocus); // not Qt::WheelFocus: a wheel turn gives no focus
            w->installEventFilter(wheel);
        }
}

void MainWindow::createDocks()
{
    m_model = new SessionModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(SessionModel::SortRole);
    m_tree = new QTreeView(this);
    m_tree->setModel(m_proxy);
    m_tree->setSortingEnabled(true);
    m_tree->sortByColumn(SessionModel::NameColumn, Qt::AscendingOrder);
    m_tree->setAlternatingRowColors(true);
    m_tree->setUniformRowHeights(true);
    m_tree->setColumnHidden(SessionModel::GroupColumn, true);
    m_tree->setColumnHidden(SessionModel::KindColumn, true); // the module's name ends with it
    m_tree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    // The key figures first: the output SQNR right after the worst score, so that a narrow
    // left column (1280x720) still shows it without scrolling; the per-modality columns last.
    m_tree->header()->moveSection(m_tree->header()->visualIndex(SessionModel::SqnrColumn),
                                  m_tree->header()->visualIndex(SessionModel::MaxScoreColumn) + 1);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &MainWindow::onTreeSelection);

    m_heatmap = new DispersionHeatmapView(this);
    m_outliers = new OutlierView(this);
    m_loss = new LossCurveView(this);
    m_mask = new MaskView(this);
    m_panel = new ThresholdPanel(this);
    connect(m_panel, &ThresholdPanel::quantSettingsChanged, this, &MainWindow::setQuantSettings);
    connect(m_panel, &ThresholdPanel::quantizeRequested, this, &MainWindow::startQuantize);
    m_settings = m_panel->quantSettings();
    m_errors = new LayerErrorView(this);
    connect(m_errors, &LayerErrorView::groupActivated, this, &MainWindow::selectGroup);
    m_sensitivity = new SensitivityView(this);
    connect(m_sensitivity, &SensitivityView::groupActivated, this, &MainWindow::selectGroup);
    connect(m_sensitivity, &SensitivityView::modalityActivated, this, [this](int modality) {
        m_heatmap->setModality(modality); // the heatmap shows that modality's scores
    });
    m_compare = new CompareView(this);
    connect(m_compare, &CompareView::groupActivated, this, &MainWindow::selectGroup);
    connect(m_compare, &CompareView::otherChanged, this,
            [this] { m_heatmap->setMarkedChannels(m_compare->maskDifferences()); });
    m_jobPanel = new JobPanel(m_jobs, this);
    connect(m_mask, &MaskView::channelClicked, this, &MainWindow::toggleChannel);
    m_summary = new QLabel(this);
    m_summary->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_summary->setMargin(8);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setWordWrap(true);

    connect(m_heatmap, &DispersionHeatmapView::channelClicked, this, [this](const QString& group, int channel) {
        selectGroup(group);
        selectChannel(channel);
        statusBar()->showMessage(tr("Channel %1 of %2").arg(channel).arg(group), 5000);
    });
    connect(m_heatmap, &DispersionHeatmapView::dispersionFormChanged, m_model, &SessionModel::setDispersionForm);
    // One score choice for every view: the heatmap's form is the DABC form of the tuning panel
    // (an undoable edit that recomputes the masks, so the mask view and the tree follow).
    connect(m_heatmap, &DispersionHeatmapView::dispersionFormChosen, this, [this](core::DispersionForm form) {
        if (form == m_settings.dabc.form)
            return;
        core::DabcSettings d = m_settings.dabc;
        d.form = form;
        setDabcSettings(d);
    });

    auto dock = [this](QWidget* w, const QString& title, const QString& name) {
        auto* d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(w);
        return d;
    };
    QDockWidget* treeDock = dock(m_tree, tr("Modules"), QStringLiteral("modulesDock"));
    QDockWidget* summaryDock = dock(m_summary, tr("Summary"), QStringLiteral("summaryDock"));
    QDockWidget* heatDock = dock(m_heatmap, tr("Dispersion Heatmap"), QStringLiteral("heatmapDock"));
    QDockWidget* outlierDock = dock(m_outliers, tr("Outliers"), QStringLiteral("outliersDock"));
    QDockWidget* maskDock = dock(m_mask, tr("DABC Mask"), QStringLiteral("maskDock"));
    QDockWidget* lossDock = dock(m_loss, tr("MDQFO Loss"), QStringLiteral("lossDock"));
    m_lossDock = lossDock;
    QDockWidget* panelDock = dock(m_panel, tr("Tuning"), QStringLiteral("thresholdDock"));
    QDockWidget* errorDock = dock(m_errors, tr("Layer Errors"), QStringLiteral("errorsDock"));
    QDockWidget* sensitivityDock = dock(m_sensitivity, tr("Sensitivity"), QStringLiteral("sensitivityDock"));
    QDockWidget* compareDock = dock(m_compare, tr("Compare"), QStringLiteral("compareDock"));
    m_jobDock = dock(m_jobPanel, tr("Jobs"), QStringLiteral("jobsDock"));

    // No central widget: every view is a dock so a person can rearrange all of them.
    auto* placeholder = new QWidget(this);
    placeholder->setMaximumSize(0, 0);
    setCentralWidget(placeholder);
    addDockWidget(Qt::LeftDockWidgetArea, treeDock);
    splitDockWidget(treeDock, panelDock, Qt::Vertical); // before tabifying, or it becomes a tab
    tabifyDockWidget(treeDock, summaryDock);
    treeDock->raise();
    addDockWidget(Qt::RightDockWidgetArea, heatDock);
    splitDockWidget(heatDock, outlierDock, Qt::Vertical);
    splitDockWidget(outlierDock, maskDock, Qt::Horizontal);
    tabifyDockWidget(maskDock, lossDock);
    tabifyDockWidget(lossDock, errorDock);
    tabifyDockWidget(errorDock, sensitivityDock);
    tabifyDockWidget(sensitivityDock, compareDock);
    maskDock->raise();
    tabifyDockWidget(panelDock, m_jobDock);
    panelDock->raise();
    m_defaultLayout = saveState(); // View > Reset Layout
    defaultDockSizes();

    m_viewMenu = new QMenu(tr("&View"), this);
    const QList<QDockWidget*> docks{treeDock, summaryDock, heatDock,  outlierDock, maskDock,
                                    lossDock, panelDock,   errorDock, m_jobDock, sensitivityDock, compareDock};
    for (int i = 0; i < docks.size(); ++i) {
        QAction* a = docks[i]->toggleViewAction();
        if (i < 10)
            a->setShortcut(QKeySequence(Qt::ALT | Qt::Key(i < 9 ? Qt::Key_1 + i : Qt::Key_0)));
        m_viewMenu->addAction(a);
    }
}

void MainWindow::defaultDockSizes()
{
    auto* tree = findChild<QDockWidget*>(QStringLiteral("modulesDock"));
    auto* heat = findChild<QDockWidget*>(QStringLiteral("heatmapDock"));
    auto* outliers = findChild<QDockWidget*>(QStringLiteral("outliersDock"));
    auto* panel = findChild<QDockWidget*>(QStringLiteral("thresholdDock"));
    // The left column a third of the width, the rest for the plots (in proportion: the window
    // may be any size).
    const int w = std::max(width(), 800), h = std::max(height(), 500);
    resizeDocks({tree, heat}, {w * 34 / 100, w * 66 / 100}, Qt::Horizontal);
    resizeDocks({heat, outliers}, {h * 52 / 100, h * 48 / 100}, Qt::Vertical);
    resizeDocks({tree, panel}, {h * 51 / 100, h * 49 / 100}, Qt::Vertical);
    // The outliers beside the mask / errors tabs, wide enough for two legend entries a row.
    auto* mask = findChild<QDockWidget*>(QStringLiteral("maskDock"));
    resizeDocks({outliers, mask}, {w * 27 / 100, w * 39 / 100}, Qt::Horizontal);
}

void MainWindow::resetLayout()
{
    restoreState(m_defaultLayout);
    for (QDockWidget* d : findChildren<QDockWidget*>()) {
        d->setFloating(false);
        d->show();
    }
    findChild<QDockWidget*>(QStringLiteral("modulesDock"))->raise();
    findChild<QDockWidget*>(QStringLiteral("maskDock"))->raise();
    findChild<QDockWidget*>(QStringLiteral("thresholdDock"))->raise();
    defaultDockSizes();
    statusBar()->showMessage(tr("The views are back in their first arrangement."), 5000);
}

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open Session..."), this, &MainWindow::openSessionDialog);
    open->setShortcut(QKeySequence::Open);
    QAction* openModel = file->addAction(tr("Open &Model Folder..."), this, &MainWindow::openModelDialog);
    openModel->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    QAction* example = file->addAction(tr("Open E&xample Session"), this, &MainWindow::openExample);
    QAction* reload = file->addAction(tr("Re&load"), this, &MainWindow::reloadSession);
    reload->setShortcut(QKeySequence::Refresh);
    file->addSeparator();
    QAction* save = file->addAction(tr("&Save Session"), this, [this] {
        if (m_path.isEmpty())
            saveAs();
        else
            saveSession(m_path);
    });
    save->setShortcut(QKeySequence::Save);
    QAction* saveAsAction = file->addAction(tr("Save Session &As..."), this, &MainWindow::saveAs);
    saveAsAction->setShortcut(QKeySequence::SaveAs);
    file->addSeparator();
    QAction* compareWith = file->addAction(tr("&Compare With Session..."), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Compare With Session"), QString(),
                                                          tr("MorphoQuant sessions (*.mqs);;All files (*)"));
        if (!path.isEmpty())
            compareWithSession(path);
    });
    compareWith->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    file->addSeparator();
    m_exportMenu = file->addMenu(tr("&Export Plot"));
    const std::pair<QString, QCustomPlot*> plots[] = {
        {tr("Dispersion Heatmap..."), m_heatmap->plot()},
        {tr("Outliers..."), m_outliers->plot()},
        {tr("DABC Mask..."), m_mask->plot()},
        {tr("MDQFO Loss..."), m_loss->plot()},
    };
    const char* names[] = {"dispersion_heatmap", "outliers", "mask", "loss_curve"};
    for (size_t i = 0; i < std::size(plots); ++i) {
        QCustomPlot* plot = plots[i].second;
        const QString name = QString::fromLatin1(names[i]);
        QAction* a = m_exportMenu->addAction(plots[i].first, this, [this, plot, name] { exportPlotDialog(plot, name, this); });
        if (i == 0)
            a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    }
    QAction* exportModel = file->addAction(tr("Export Quanti&zed Model..."), this, &MainWindow::exportDialog);
    exportModel->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = m_undo->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Z));
    QAction* redo = m_undo->createRedoAction(this, tr("&Redo"));
    redo->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
    edit->addAction(undo);
    edit->addAction(redo);

    QMenu* study = menuBar()->addMenu(tr("&Study"));
    QAction* calibrate = study->addAction(tr("&Calibrate..."), this, &MainWindow::calibrateDialog);
    calibrate->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
    QAction* quantize = study->addAction(tr("&Quantize"), this, &MainWindow::startQuantize);
    quantize->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    quantize->setToolTip(tr("Build the plan with the tuning panel's settings"));
    QAction* evaluate = study->addAction(tr("&Evaluate..."), this, &MainWindow::evaluateDialog);
    evaluate->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    QAction* keep = study->addAction(tr("&Keep Plan for Comparison"), this, &MainWindow::keepPlanForComparison);
    keep->setToolTip(tr("Compare the plans you build next with this one (the Compare view)"));
    study->addSeparator();
    QAction* launcher = study->addAction(tr("MPI &Launcher..."), this, &MainWindow::mpiLauncherDialog);
    launcher->setToolTip(tr("Run Calibrate and Quantize as MPI jobs through a launcher command (mpirun, srun)"));
    // --device cuda of the CLI: statistics and MDQFO's grid scoring on the GPU kernels.
    QAction* gpu = study->addAction(tr("Use the &GPU Kernels (CUDA)"));
    gpu->setCheckable(true);
    gpu->setToolTip(tr("Run the statistics pass and MDQFO's grid scoring on the GPU (README \"GPU kernels\")"));
    connect(gpu, &QAction::toggled, this, [this, gpu](bool on) {
        try {
            core::enableCudaKernels(on);
            QSettings().setValue(QStringLiteral("device/cuda"), on);
            statusBar()->showMessage(on ? tr("Statistics and MDQFO's grid scoring run on the GPU.")
                                        : tr("Everything runs on the CPU."),
                                     8000);
        } catch (const core::Error& e) {
            const QSignalBlocker block(gpu);
            gpu->setChecked(false);
            QSettings().setValue(QStringLiteral("device/cuda"), false);
            QMessageBox::warning(this, tr("GPU Kernels"), QString::fromStdString(e.what()));
        }
    });
    if (QSettings().value(QStringLiteral("device/cuda"), false).toBool()) {
        try { // the choice of the last session, where the GPU is still there
            core::enableCudaKernels(true);
            const QSignalBlocker block(gpu);
            gpu->setChecked(true);
        } catch (const core::Error& e) {
            statusBar()->showMessage(QString::fromStdString(e.what()), 8000);
        }
    }
    study->addSeparator();
    QAction* cancel = study->addAction(tr("Cancel &Job"), m_jobs, &JobController::cancel);
    cancel->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_cancelAction = cancel;
    m_jobActions = {open, openModel, example, reload, calibrate, quantize, evaluate, exportModel, m_recentMenu->menuAction()};
    m_sessionActions = {reload, save, saveAsAction, m_exportMenu->menuAction(), exportModel, calibrate, quantize, evaluate,
                        compareWith, keep};

    menuBar()->addMenu(m_viewMenu);
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(tr("&Reset Layout"), this, &MainWindow::resetLayout);
    m_viewMenu->addSeparator();
    QMenu* language = m_viewMenu->addMenu(tr("&Language"));
    auto* languages = new QActionGroup(this);
    const QString current = QSettings().value(QStringLiteral("language")).toString();
    const std::pair<QString, QString> choices[] = {{QString(), tr("System Default")},
                                                   {QStringLiteral("en"), QStringLiteral("English")},
                                                   // each language in its own script and in English,
                                                   // readable whatever the current language and fonts
                                                   {QStringLiteral("zh_CN"), QStringLiteral("\u7b80\u4f53\u4e2d\u6587 (Simplified Chinese)")},
                                                   {QStringLiteral("ja"), QStringLiteral("\u65e5\u672c\u8a9e (Japanese)")}};
    for (const auto& [code, name] : choices) {
        QAction* a = language->addAction(name, this, [this, code = code] { setLanguage(code); });
        a->setCheckable(true);
        a->setChecked(code == current);
        languages->addAction(a);
    }
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* guide = help->addAction(tr("&Guide and Glossary"), this, &MainWindow::showGuide);
    guide->setShortcut(QKeySequence::HelpContents);
    help->addAction(tr("&About MorphoQuant Workbench"), this, &MainWindow::showAbout);
    updateRecentMenu();
}

void MainWindow::setLanguage(const QString& code)
{
    QSettings().setValue(QStringLiteral("language"), code);
    statusBar()->showMessage(tr("The language changes at the next start of the workbench."), 10000);
}

bool MainWindow::openSession(const QString& path, bool quiet)
{
    if (m_jobs->isRunning()) {
        statusBar()->showMessage(tr("Wait for the running job or cancel it first."), 5000);
        return false;
    }
    try {
        core::Session s = core::loadSession(path.toStdString());
        setSession(s, QFileInfo(path).fileName());
        m_path = path;
        setModified(false);
        addRecentFile(path);
        statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
        return true;
    } catch (const std::exception& e) {
        if (!quiet)
            QMessageBox::critical(this, tr("Cannot open session"), QString::fromStdString(e.what()));
        statusBar()->showMessage(tr("Could not open %1").arg(path));
        return false;
    }
}

bool MainWindow::saveSession(const QString& path, bool quiet)
{
    if (!m_session)
        return false;
    try {
        // The tuning panel's settings travel with the session (edits not yet quantized survive).
        m_session->tuning = m_settings;
        core::saveSession(*m_session, path.toStdString());
    } catch (const std::exception& e) {
        if (!quiet)
            QMessageBox::critical(this, tr("Cannot save session"), QString::fromStdString(e.what()));
        statusBar()->showMessage(tr("Could not save %1").arg(path));
        return false;
    }
    m_path = path;
    m_title = QFileInfo(path).fileName();
    setModified(false);
    addRecentFile(path);
    statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
    return true;
}

bool MainWindow::saveAs()
{
    if (!m_session)
        return false;
    QString path = QFileDialog::getSaveFileName(this, tr("Save Session"), m_path.isEmpty() ? m_title + QStringLiteral(".mqs") : m_path,
                                                tr("MorphoQuant sessions (*.mqs)"));
    if (path.isEmpty())
        return false;
    if (QFileInfo(path).suffix().isEmpty())
        path += QStringLiteral(".mqs");
    return saveSession(path);
}

void MainWindow::setSession(const core::Session& session, const QString& title)
{
    replaceSession(session);
    m_previewGroups.clear();
    m_undo->clear();
    if (m_session->tuning || m_session->settings) { // the panel as saved, else the plan's settings
        m_settings = m_session->tuning ? *m_session->tuning : *m_session->settings;
        m_panel->setQuantSettings(m_settings);
    }
    m_path.clear();
    m_title = title;
    m_modified = false;
    updateTitle();
    m_tree->expandAll();
    updateTreeColumns();
    updateSummary();
    updatePlanStatus();
    // Start on the group with the worst score: that is what a person opens a session to see.
    QString worst;
    double best = -1;
    for (int r = 0; r < m_model->rowCount(); ++r) {
        const QModelIndex layer = m_model->index(r, 0);
        for (int c = 0; c < m_model->rowCount(layer); ++c) {
            const QModelIndex i = m_model->index(c, SessionModel::MaxScoreColumn, layer);
            const double v = i.data(SessionModel::SortRole).toDouble();
            if (v > best) {
                best = v;
                worst = i.data(SessionModel::GroupRole).toString();
            }
        }
    }
    if (worst.isEmpty() && !m_session->groups.empty())
        worst = QString::fromStdString(m_session->groups.front());
    m_group.clear();
    selectGroup(worst);
}

void MainWindow::replaceSession(const core::Session& session)
{
    // Views hold a pointer into the session: point them at the new one before the old one goes.
    auto next = std::make_unique<core::Session>(session);
    m_model->setSession(next.get());
    m_heatmap->setSession(next.get());
    m_outliers->setSession(next.get());
    m_loss->setSession(next.get());
    m_mask->setSession(next.get());
    m_errors->setSession(next.get());
    m_sensitivity->setSession(next.get());
    m_compare->setSession(next.get());
    m_heatmap->setMarkedChannels(m_compare->maskDifferences());
    m_session = std::move(next);
    // Results computed for the previous session must not land in this one.
    m_job->cancel();
    m_preview->cancel();
    updateActionStates();
}

void MainWindow::adoptSession(const core::Session& session)
{
    const QString group = m_group;
    replaceSession(session); // path and title stay: it is the same study
    m_tree->expandAll();
    updateTreeColumns();
    m_group.clear();
    const bool known = std::find(m_session->groups.begin(), m_session->groups.end(), group.toStdString())
                    != m_session->groups.end();
    selectGroup(known ? group : (m_session->groups.empty() ? QString() : QString::fromStdString(m_session->groups.front())));
    setModified(true);
    updateSummary();
    updatePlanStatus();
}

QStringList MainWindow::viewNames()
{
    return {QStringLiteral("modules"), QStringLiteral("summary"), QStringLiteral("heatmap"),
            QStringLiteral("outliers"), QStringLiteral("mask"),    QStringLiteral("loss"),
            QStringLiteral("tuning"),  QStringLiteral("errors"),  QStringLiteral("jobs"),
            QStringLiteral("sensitivity"), QStringLiteral("compare")};
}

bool MainWindow::raiseView(const QString& name)
{
    static const char* const objects[] = {"modulesDock", "summaryDock", "heatmapDock", "outliersDock", "maskDock",
                                          "lossDock",    "thresholdDock", "errorsDock", "jobsDock",
                                          "sensitivityDock", "compareDock"};
    const int i = viewNames().indexOf(name);
    if (i < 0)
        return false;
    auto* dock = findChild<QDockWidget*>(QLatin1String(objects[i]));
    if (!dock)
        return false;
    dock->show();
    dock->raise();
    return true;
}

void MainWindow::updateTreeColumns()
{
    // Columns of modalities the calibration never saw, and SQNR before errors are measured,
    // would be columns of dashes: hide them.
    for (int c = SessionModel::MaxScoreColumn; c < SessionModel::ColumnCount; ++c)
        m_tree->setColumnHidden(c, !m_model->columnHasData(c));
}

void MainWindow::setModified(bool modified)
{
    m_modified = modified;
    updateTitle();
}

void MainWindow::updateTitle()
{
    const QString name = m_title.isEmpty() ? (m_session ? tr("untitled") : QString()) : m_title;
    setWindowTitle(name.isEmpty() ? tr("MorphoQuant Workbench")
                                  : tr("%1%2 \u2014 MorphoQuant Workbench").arg(name, m_modified ? QStringLiteral("*") : QString()));
}

void MainWindow::selectChannel(int channel)
{
    m_heatmap->setChannel(channel);
    m_outliers->setChannel(channel);
    m_mask->setChannel(channel);
}

void MainWindow::selectGroup(const QString& group)
{
    if (group == m_group)
        return;
    m_group = group;
    selectChannel(-1); // a channel index means something within one group only
    m_heatmap->setCurrentGroup(group);
    m_outliers->setGroup(group);
    m_loss->setGroup(group);
    updateLossOutOfDate();
    m_sensitivity->setCurrentGroup(group);
    m_mask->setGroup(group);
    // Select the group's first module in the tree unless the current row already belongs to it.
    if (m_tree->currentIndex().data(SessionModel::GroupRole).toString() != group
        || !m_tree->currentIndex().parent().isValid()) {
        // All hits: a layer row also answers GroupRole (with its first group) and must be skipped.
        const QModelIndexList hits = m_proxy->match(m_proxy->index(0, 0), SessionModel::GroupRole, group, -1,
                                                    Qt::MatchExactly | Qt::MatchRecursive);
        for (const QModelIndex& hit : hits)
            if (hit.parent().isValid()) {
                m_tree->setCurrentIndex(hit);
                m_tree->scrollTo(hit);
                break;
            }
    }
    updateSummary();
}

void MainWindow::setDabcSettings(const core::DabcSettings& settings)
{
    core::QuantSettings q = m_settings;
    q.dabc = settings;
    setQuantSettings(q);
}

void MainWindow::setQuantSettings(const core::QuantSettings& settings)
{
    if (ThresholdPanel::sameSettings(settings, m_settings))
        return;
    m_undo->push(new QuantSettingsCommand(this, m_settings, settings));
}

void MainWindow::applyQuantSettings(const core::QuantSettings& settings)
{
    const ThresholdPanel::Effect effect = ThresholdPanel::effectOf(m_settings, settings);
    m_settings = settings;
    m_panel->setQuantSettings(settings);
    if (!m_session) {
        updatePlanStatus();
        return;
    }
    setModified(true); // the panel's settings are saved with the session
    if (effect.masks && !m_session->plans.empty()) {
        // The worker gets its own copy of what computeMasks reads; the views keep the window's.
        m_job->request(core::maskInputs(*m_session), settings.dabc);
        m_previewAfterMasks = true; // MDQFO's bounds depend on the mask: preview once it is in
        statusBar()->showMessage(tr("Recomputing the DABC mask..."));
    } else if (effect.mdqfo) {
        requestPreview();
    }
    updatePlanStatus();
}

void MainWindow::toggleChannel(const QString& group, int channel)
{
    if (!m_session)
        return;
    auto it = m_session->plans.find(group.toStdString());
    if (it == m_session->plans.end() || channel < 0 || channel >= int(it->second.mask.size()))
        return;
    const core::GroupPlan& p = it->second;
    const uint8_t hand = size_t(channel) < p.handEdited.size() ? p.handEdited[size_t(channel)] : 0;
    m_undo->push(new ToggleChannelCommand(this, it->first, channel, p.mask[size_t(channel)], hand));
}

void MainWindow::setChannelMask(const std::string& group, int channel, uint8_t mask, uint8_t handEdited)
{
    if (!m_session)
        return;
    auto it = m_session->plans.find(group);
    if (it == m_session->plans.end() || channel < 0 || channel >= int(it->second.mask.size()))
        return;
    core::GroupPlan& p = it->second;
    p.handEdited.resize(p.mask.size(), 0);
    p.mask[size_t(channel)] = mask;
    p.handEdited[size_t(channel)] = handEdited;
    setModified(true);
    refreshPlanViews();
}

void MainWindow::onMasksReady(const std::map<std::string, core::GroupPlan>& plans)
{
    if (!m_session)
        return;
    for (const auto& [g, fresh] : plans) {
        core::GroupPlan& p = m_session->plans[g];
        // A hand edit made while the worker ran is not in its copy: the window's bit wins.
        std::vector<uint8_t> mask = fresh.mask;
        if (p.handEdited.size() == mask.size() && p.mask.size() == mask.size())
            for (size_t c = 0; c < mask.size(); ++c)
                if (p.handEdited[c])
                    mask[c] = p.mask[c];
        p.scores = fresh.scores;
        p.tauLocal = fresh.tauLocal;
        p.tauGlobal = fresh.tauGlobal;
        if (p.handEdited.size() != mask.size())
            p.handEdited.assign(mask.size(), 0);
        p.mask = std::move(mask); // alpha0/alpha stay: they come from MDQFO, not from the threshold
    }
    if (m_session->settings) // the plan's masks follow the panel; its other settings stay
        m_session->settings->dabc = m_settings.dabc;
    m_heatmap->setDispersionForm(m_settings.dabc.form);
    setModified(true);
    refreshPlanViews();
    if (m_previewAfterMasks) {
        m_previewAfterMasks = false;
        requestPreview();
    }
    updatePlanStatus();
}

void MainWindow::refreshPlanViews()
{
    m_model->refreshFigures();
    updateTreeColumns();
    m_mask->refresh();
    m_loss->setSession(m_session.get());
    m_loss->setGroup(m_group);
    updateLossOutOfDate();
    m_errors->refresh();
    m_sensitivity->refresh();
    m_compare->refresh();
    m_heatmap->setMarkedChannels(m_compare->maskDifferences());
    m_heatmap->setSession(m_session.get());
    if (!m_tree->currentIndex().isValid() && !m_group.isEmpty()) { // a form change resets the tree
        const QString g = m_group;
        m_group.clear();
        selectGroup(g);
    }
    updateSummary();
    int64_t masked = 0;
    for (const auto& [g, p] : m_session->plans)
        for (uint8_t b : p.mask)
            masked += b;
    statusBar()->showMessage(tr("%n channel(s) compensated", nullptr, int(masked)));
    updatePlanStatus(); // results measured before this edit are out of date now
}

void MainWindow::updateLossOutOfDate()
{
    // A group MDQFO just previewed shows its fresh curve; the others are the last run's.
    const bool stale = m_session && !m_session->curves.empty()
        && !core::resultIsCurrent(*m_session, m_session->curvesPlan)
        && !m_previewGroups.count(m_group.toStdString());
    m_loss->setOutOfDate(stale);
}

void MainWindow::updatePlanStatus()
{
    // The encoders can be quantized where the calibration ran them (groups past the decoder's).
    std::set<std::string> decoder;
    if (m_session)
        for (const core::ModuleInfo& m : m_session->modules)
            decoder.insert(m.inputGroup);
    m_panel->setEncodersAvailable(m_session && m_session->groups.size() > decoder.size());
    if (!m_session) {
        m_panel->setPlanStatus(tr("Open a session or a model folder."), false);
        return;
    }
    if (m_session->stats.empty()) {
        m_panel->setPlanStatus(tr("No calibration statistics: Study \u2192 Calibrate first."), true);
        return;
    }
    if (!m_session->settings) {
        m_panel->setPlanStatus(tr("No plan yet: Quantize builds one with these settings."), true);
        return;
    }
    const ThresholdPanel::Effect e = ThresholdPanel::effectOf(*m_session->settings, m_settings);
    if (e.requantize) {
        m_panel->setPlanStatus(tr("Bits, formats, method or rho differ from the plan's: Quantize to apply them."), true);
    } else if (!m_previewGroups.empty() || e.mdqfo) {
        m_panel->setPlanStatus(tr("MDQFO previewed on %n input group(s) only: Quantize to apply it to every layer.",
                                  nullptr, int(m_previewGroups.size())),
                               true);
    } else if ((!m_session->errors.empty() && !core::resultIsCurrent(*m_session, m_session->resultsPlan))
               || std::any_of(m_session->evals.begin(), m_session->evals.end(),
                              [&](const core::EvalResult& e) { return !core::resultIsCurrent(*m_session, e.plan); })) {
        m_panel->setPlanStatus(tr("The plan follows these settings, but its layer errors or perplexity were measured "
                                  "before the last edit: Quantize (or Evaluate) to refresh them."),
                               true);
    } else {
        m_panel->setPlanStatus(tr("The plan matches these settings."), false);
    }
}

void MainWindow::requestPreview()
{
    if (!m_session || !m_session->settings || m_group.isEmpty())
        return;
    const core::QuantSettings& plan = *m_session->settings;
    if (plan.method != "morphoquant" || plan.act != core::ActScheme::PerChannelStatic || !m_settings.mdqfo.enabled) {
        updatePlanStatus();
        return;
    }
    if (m_jobs->isRunning()) {
        statusBar()->showMessage(tr("MDQFO preview waits for the running job: Quantize afterwards to apply."), 5000);
        return;
    }
    if (!m_engine->hasPreviewCache(*m_session)) {
        statusBar()->showMessage(
            tr("The MDQFO preview needs the calibration inputs of a quantization run in this window: Quantize once."),
            8000);
        return;
    }
    // Every input group of the current layer: what "a layer" means for the 0.5 s target.
    const core::ModuleInfo* current = nullptr;
    for (const core::ModuleInfo& m : m_session->modules)
        if (QString::fromStdString(m.inputGroup) == m_group) {
            current = &m;
            break;
        }
    std::vector<std::string> groups;
    for (const core::ModuleInfo& m : m_session->modules)
        if (current && m.layer == current->layer && std::find(groups.begin(), groups.end(), m.inputGroup) == groups.end())
            groups.push_back(m.inputGroup);
    if (groups.empty())
        groups.push_back(m_group.toStdString());
    core::QuantSettings st = plan;
    st.dabc = m_settings.dabc;
    st.mdqfo = m_settings.mdqfo;
    m_preview->request(*m_session, std::move(groups), st);
    statusBar()->showMessage(tr("Previewing MDQFO on layer %1...").arg(current ? current->layer : -1));
}

void MainWindow::onPreviewReady(const std::vector<core::GroupPreview>& previews, double seconds)
{
    if (!m_session)
        return;
    for (const core::GroupPreview& p : previews) {
        auto it = m_session->plans.find(p.group);
        if (it == m_session->plans.end())
            continue;
        // Bounds only: the mask may have been edited by hand since the request went out.
        it->second.alpha0 = p.plan.alpha0;
        it->second.alpha = p.plan.alpha;
        bool found = false;
        for (core::LossCurve& c : m_session->curves)
            if (c.group == p.group) {
                c = p.curve;
                found = true;
            }
        if (!found)
            m_session->curves.push_back(p.curve);
        m_previewGroups.insert(p.group);
    }
    if (m_session->settings)
        m_session->settings->mdqfo = m_settings.mdqfo;
    setModified(true);
    refreshPlanViews();
    updatePlanStatus();
    statusBar()->showMessage(tr("MDQFO preview of %n input group(s) in %1 ms", nullptr, int(previews.size()))
                                 .arg(seconds * 1000.0, 0, 'f', 0),
                             8000);
}

bool MainWindow::runJob(const QString& title,
                        std::function<QString(core::Session&, const core::ProgressSink&, const core::CancelToken&)> body,
                        std::function<void(std::shared_ptr<core::Session>)> onDone, bool needsSession)
{
    if (needsSession && !m_session) {
        statusBar()->showMessage(tr("Open a session or a model folder first."), 5000);
        return false;
    }
    if (m_jobs->isRunning()) {
        statusBar()->showMessage(tr("%1 is running: wait for it or cancel it first.").arg(m_jobs->currentTitle()), 5000);
        return false;
    }
    // Previews and mask recomputes must not land in the session the job replaces.
    m_preview->cancel();
    const core::Session empty;
    if (!m_jobs->start(title, m_session ? *m_session : empty, std::move(body)))
        return false;
    m_onJobDone = std::move(onDone);
    m_panel->setEnabled(false);
    m_mask->setEnabled(false);
    updateActionStates();
    if (!m_jobDock->isHidden() && !m_jobDock->isFloating())
        m_jobDock->raise(); // its tab to the front; a dock the user closed stays closed (no resize)
    return true;
}

void MainWindow::onJobEnded()
{
    m_loss->clearLive();
    m_panel->setEnabled(true);
    m_mask->setEnabled(true);
    updateActionStates();
}

void MainWindow::updateActionStates()
{
    const bool running = m_jobs->isRunning();
    for (QAction* a : m_jobActions)
        a->setEnabled(!running);
    for (QAction* a : m_sessionActions)
        a->setEnabled(m_session && !(running && m_jobActions.contains(a)));
    if (m_recentMenu)
        m_recentMenu->setEnabled(!running && !m_recentMenu->actions().isEmpty());
    if (m_cancelAction)
        m_cancelAction->setEnabled(running);
    if (m_welcome) {
        m_welcome->setVisible(!m_session);
        if (!m_session) {
            placeWelcome();
            m_welcome->raise();
        }
    }
}

void MainWindow::placeWelcome()
{
    // Over the docks: from below the menu bar to above the status bar.
    // (before the first show the bars have no geometry yet: their size hints stand in)
    const bool laidOut = isVisible() && menuBar()->isVisible();
    const int top = menuBar()->isHidden() ? 0 : (laidOut ? menuBar()->geometry().bottom() + 1 : menuBar()->sizeHint().height());
    const int bottom = statusBar()->isHidden() ? height()
        : (laidOut && statusBar()->isVisible() ? statusBar()->geometry().top() : height() - statusBar()->sizeHint().height());
    m_welcome->setGeometry(0, top, width(), std::max(0, bottom - top));
}

void MainWindow::resizeEvent(QResizeEvent* event)
{
    QMainWindow::resizeEvent(event);
    if (m_welcome && !m_welcome->isHidden())
        placeWelcome();
}

void MainWindow::showEvent(QShowEvent* event)
{
    QMainWindow::showEvent(event);
    if (m_welcome && !m_welcome->isHidden()) // the bars have their geometry once the layout ran
        QTimer::singleShot(0, this, [this] {
            if (!m_welcome->isHidden())
                placeWelcome();
        });
}

bool MainWindow::compareWithSession(const QString& path, bool quiet)
{
    if (!m_session)
        return false;
    QString why;
    try {
        why = m_compare->setOther(core::loadSession(path.toStdString()), QFileInfo(path).fileName());
    } catch (const std::exception& e) {
        why = QString::fromStdString(e.what());
    }
    if (!why.isEmpty()) {
        if (!quiet && !m_quietErrors)
            QMessageBox::warning(this, tr("Cannot compare"), why);
        statusBar()->showMessage(tr("Cannot compare: %1").arg(why), 10000);
        return false;
    }
    raiseView(QStringLiteral("compare"));
    return true;
}

void MainWindow::keepPlanForComparison()
{
    if (!m_session)
        return;
    m_compare->setOther(*m_session, tr("snapshot %1").arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss"))));
    raiseView(QStringLiteral("compare"));
    statusBar()->showMessage(tr("This plan is kept as B: quantize with other settings, then read the Compare view."), 8000);
}

GuideDialog* MainWindow::showGuide()
{
    if (!m_guide)
        m_guide = new GuideDialog(menuBar(), this);
    m_guide->show();
    m_guide->raise();
    return m_guide;
}

bool MainWindow::startOpenModel(const QString& dir)
{
    auto engine = m_engine;
    const std::string path = QDir(dir).absolutePath().toStdString();
    const QString name = QFileInfo(dir).fileName();
    return runJob(
        tr("Open model %1").arg(name),
        [engine, path](core::Session& s, const core::ProgressSink& progress, const core::CancelToken& cancel) {
            const std::string before = s.model.fingerprint;
            engine->openModel(s, path, progress, &cancel);
            return MainWindow::tr("%1 Linear modules in %2 input groups%3")
                .arg(s.modules.size())
                .arg(s.groups.size())
                .arg(before == s.model.fingerprint ? tr(" (same model: statistics kept)") : QString());
        },
        [this, name](std::shared_ptr<core::Session> s) {
            const bool same = m_session && m_session->model.fingerprint == s->model.fingerprint;
            if (same) {
                adoptSession(*s);
            } else {
                setSession(*s, name);
                setModified(true);
            }
            statusBar()->showMessage(tr("Model loaded: Study \u2192 Calibrate collects its statistics."), 10000);
        },
        false);
}

bool MainWindow::startCalibration(const QString& path, const QString& kind, int batchSize)
{
    if (m_session && m_session->model.path.empty()) {
        statusBar()->showMessage(tr("Open a model folder first."), 5000);
        return false;
    }
    auto engine = m_engine;
    core::CalibrationSourceSpec spec;
    spec.path = path.toStdString();
    spec.kind = kind.toStdString();
    spec.batchSize = batchSize;
    const QString launcher = mpiLauncher(); // set: an MPI job through it (mpi_job.h)
    return runJob(
        launcher.isEmpty() ? tr("Calibrate on %1").arg(QFileInfo(path).fileName())
                           : tr("Calibrate on %1 (MPI)").arg(QFileInfo(path).fileName()),
        [engine, spec, launcher](core::Session& s, const core::ProgressSink& progress, const core::CancelToken& cancel) {
            if (launcher.isEmpty())
                engine->calibrate(s, spec, progress, &cancel);
            else
                calibrateWithLauncher(s, spec, launcher, progress, cancel);
            return MainWindow::tr("%1 sequences, %2 tokens").arg(s.calibration.sequences).arg(s.calibration.totalTokens());
        },
        [this](std::shared_ptr<core::Session> s) {
            m_previewGroups.clear();
            adoptSession(*s);
        });
}

bool MainWindow::startQuantize()
{
    if (m_session && m_session->stats.empty()) {
        statusBar()->showMessage(tr("Calibrate first: the plan is built from the calibration statistics."), 5000);
        return false;
    }
    auto engine = m_engine;
    const core::QuantSettings settings = m_settings;
    const QString launcher = mpiLauncher(); // set: an MPI job through it (mpi_job.h)
    return runJob(
        launcher.isEmpty() ? tr("Quantize %1").arg(QString::fromStdString(settings.label()))
                           : tr("Quantize %1 (MPI)").arg(QString::fromStdString(settings.label())),
        [engine, settings, launcher](core::Session& s, const core::ProgressSink& progress,
                                     const core::CancelToken& cancel) {
            if (launcher.isEmpty())
                engine->quantize(s, settings, progress, &cancel);
            else
                quantizeWithLauncher(s, settings, launcher, progress, cancel);
            double worst = qInf();
            for (const core::ModuleError& e : s.errors)
                if (e.pooled.tokens > 0)
                    worst = std::min(worst, e.pooled.sqnrDb);
            return std::isfinite(worst) ? MainWindow::tr("worst module SQNR %1 dB").arg(worst, 0, 'f', 2)
                                        : MainWindow::tr("plan built");
        },
        [this](std::shared_ptr<core::Session> s) {
            m_previewGroups.clear();
            adoptSession(*s);
        });
}

bool MainWindow::startEvaluation(const QString& path, bool fpToo)
{
    if (m_session && !m_session->settings) {
        statusBar()->showMessage(tr("Quantize first: evaluation compares the quantized model with full precision."), 5000);
        return false;
    }
    auto engine = m_engine;
    const std::string data = path.toStdString();
    return runJob(
        tr("Evaluate on %1").arg(QFileInfo(path).fileName()),
        [engine, data, fpToo](core::Session& s, const core::ProgressSink& progress, const core::CancelToken& cancel) {
            engine->evaluate(s, data, fpToo, 8, progress, &cancel);
            return s.evals.empty() ? QString()
                                   : MainWindow::tr("perplexity %1").arg(s.evals.back().ppl, 0, 'f', 4);
        },
        [this](std::shared_ptr<core::Session> s) { adoptSession(*s); });
}

bool MainWindow::startExport(const QString& dir, bool overwrite, core::ExportFormat format,
                             std::shared_ptr<core::ExportReport> report)
{
    if (m_session && !m_session->settings) {
        statusBar()->showMessage(tr("Quantize first: there is no plan to export."), 5000);
        return false;
    }
    auto engine = m_engine;
    const std::string out = dir.toStdString();
    return runJob(
        tr("Export to %1").arg(QFileInfo(dir).fileName()),
        [engine, out, overwrite, format, report](core::Session& s, const core::ProgressSink& progress,
                                                 const core::CancelToken& cancel) {
            *report = engine->exportModel(s, out, overwrite, progress, &cancel, format);
            return MainWindow::tr("%1 tensors, %2 MB").arg(report->tensors).arg(double(report->bytes) / 1e6, 0, 'f', 2);
        },
        nullptr); // an export does not change the session
}

void MainWindow::mpiLauncherDialog()
{
    bool ok = false;
    const QString command = QInputDialog::getText(
        this, tr("MPI Launcher"),
        tr("Run Calibrate and Quantize through this command, e.g. <tt>mpirun -n 4 --hostfile hosts</tt> or "
           "<tt>srun -N 2 --ntasks-per-node 2 --mpi=pmix</tt>; morphoquant-cli and its arguments follow it. "
           "Empty: jobs run in this process."),
        QLineEdit::Normal, mpiLauncher(), &ok);
    if (!ok)
        return;
    try {
        launcherCommand(command, {}); // a quote left open is refused now
    } catch (const core::Error& e) {
        QMessageBox::warning(this, tr("MPI Launcher"), QString::fromStdString(e.what()));
        return;
    }
    setMpiLauncher(command);
    statusBar()->showMessage(command.trimmed().isEmpty() ? tr("Jobs run in this process.")
                                                         : tr("Calibrate and Quantize run through: %1").arg(command.trimmed()),
                             8000);
}

void MainWindow::openModelDialog()
{
    if (!confirmDiscard()) // a new model replaces the session
        return;
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Model Folder"));
    if (!dir.isEmpty())
        startOpenModel(dir);
}

void MainWindow::calibrateDialog()
{
    if (!m_session) {
        statusBar()->showMessage(tr("Open a model folder first."), 5000);
        return;
    }
    DataFileChoice c;
    c.batch = m_session->calibration.batchSize > 0 ? m_session->calibration.batchSize : 8;
    QString start = QString::fromStdString(m_session->calibration.source);
    if (start.isEmpty())
        start = QDir(QString::fromStdString(m_session->model.path)).filePath(QStringLiteral("calibration.jsonl"));
    if (askDataFile(this, tr("Calibrate"), start, true, QString(), &c))
        startCalibration(c.path, c.kind, c.batch);
}

void MainWindow::evaluateDialog()
{
    if (!m_session)
        return;
    DataFileChoice c;
    c.check = true;
    QString start = m_session->evals.empty() ? QString() : QString::fromStdString(m_session->evals.back().data);
    if (start.isEmpty())
        start = QDir(QString::fromStdString(m_session->model.path)).filePath(QStringLiteral("evaluation.jsonl"));
    if (askDataFile(this, tr("Evaluate"), start, false, tr("Also evaluate the full-precision model"), &c))
        startEvaluation(c.path, c.check);
}

void MainWindow::exportDialog()
{
    if (!m_session || !m_session->settings) {
        statusBar()->showMessage(tr("Quantize first: there is no plan to export."), 5000);
        return;
    }
    ExportDialog d(*m_session, m_jobs,
                   [this](const QString& dir, bool overwrite, core::ExportFormat format,
                          std::shared_ptr<core::ExportReport> report) {
                       return startExport(dir, overwrite, format, std::move(report));
                   },
                   this);
    d.exec();
}

QString MainWindow::exampleSessionPath()
{
    const QStringList candidates{
        QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../share/morphoquant/example.mqs")),
#ifdef MQ_EXAMPLE_SESSION
        QStringLiteral(MQ_EXAMPLE_SESSION),
#endif
    };
    for (const QString& c : candidates)
        if (QFileInfo::exists(c))
            return QFileInfo(c).absoluteFilePath();
    return {};
}

void MainWindow::openExample()
{
    if (!confirmDiscard())
        return;
    const QString path = exampleSessionPath();
    if (path.isEmpty()) {
        QMessageBox::information(this, tr("Example session"),
                                 tr("The example session is built with the workbench when the stories260K model is "
                                    "found (../shared/models/stories260K); this build has none."));
        return;
    }
    openSession(path);
}

void MainWindow::onTreeSelection()
{
    const QString group = m_tree->currentIndex().data(SessionModel::GroupRole).toString();
    if (!group.isEmpty())
        selectGroup(group);
}

void MainWindow::updateSummary()
{
    if (!m_session) {
        m_summary->setText(tr("Open a session (.mqs) made by morphoquant-cli quantize --session."));
        m_modelLabel->setText(tr("No session"));
        m_planLabel->clear();
        return;
    }
    const core::Session& s = *m_session;
    int64_t masked = 0;
    for (const auto& [g, p] : s.plans)
        for (uint8_t b : p.mask)
            masked += b;
    QString text = tr("Model %1 (%2)\n%3 Linear modules in %4 input groups\n%5 calibration tokens")
                       .arg(QString::fromStdString(s.model.path), QString::fromStdString(s.model.architecture))
                       .arg(s.modules.size())
                       .arg(s.groups.size())
                       .arg(s.calibration.totalTokens());
    if (s.settings)
        text += tr("\nPlan: %1, %2 channels compensated by DABC")
                    .arg(QString::fromStdString(s.settings->label()))
                    .arg(masked)
                + QStringLiteral("\n") + costLine(core::quantCost(s));
    for (const auto& e : s.evals)
        text += tr("\n%1: perplexity %2").arg(evalLabel(e.label)).arg(e.ppl, 0, 'f', 4)
            + (core::resultIsCurrent(s, e.plan) ? QString() : tr(" (out of date: an earlier plan's)"));
    if (!m_group.isEmpty())
        text += tr("\n\nCurrent input group: %1").arg(m_group);
    m_summary->setText(text);
    m_modelLabel->setText(tr("Model: %1 (%2)")
                              .arg(QFileInfo(QString::fromStdString(s.model.path)).fileName(),
                                   QString::fromStdString(s.model.architecture)));
    m_planLabel->setText(s.settings ? tr("Plan: %1, %2 masked channels")
                                          .arg(QString::fromStdString(s.settings->label()))
                                          .arg(masked)
                                    : tr("No plan"));
}

void MainWindow::openSessionDialog()
{
    if (!confirmDiscard())
        return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Session"), QString(),
                                                      tr("MorphoQuant sessions (*.mqs);;All files (*)"));
    if (!path.isEmpty())
        openSession(path);
}

void MainWindow::reloadSession()
{
    if (!m_path.isEmpty() && confirmDiscard())
        openSession(m_path);
}

void MainWindow::addRecentFile(const QString& path)
{
    QSettings settings;
    QStringList files = settings.value(QLatin1String(kRecentKey)).toStringList();
    const QString abs = QFileInfo(path).absoluteFilePath();
    files.removeAll(abs);
    files.prepend(abs);
    while (files.size() > kMaxRecent)
        files.removeLast();
    settings.setValue(QLatin1String(kRecentKey), files);
    updateRecentMenu();
}

void MainWindow::updateRecentMenu()
{
    m_recentMenu->clear();
    const QStringList files = QSettings().value(QLatin1String(kRecentKey)).toStringList();
    for (int i = 0; i < files.size(); ++i) {
        const QString path = files[i];
        QAction* a = m_recentMenu->addAction(QStringLiteral("&%1 %2").arg(i + 1).arg(QFileInfo(path).fileName()), this,
                                             [this, path] {
                                                 if (confirmDiscard())
                                                     openSession(path);
                                             });
        a->setToolTip(path);
    }
    m_recentMenu->setEnabled(!files.isEmpty());
    if (m_welcome)
        m_welcome->setRecentFiles(files);
    if (!files.isEmpty()) {
        m_recentMenu->addSeparator();
        m_recentMenu->addAction(tr("Clear List"), this, [this] {
            QSettings().remove(QLatin1String(kRecentKey));
            updateRecentMenu();
        });
    }
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    fitToScreen();
    // The tuning of the last run, for a model opened without a plan (a session's plan, or the
    // tuning saved with it, wins).
    const QString tuning = settings.value(QStringLiteral("tuning/settings")).toString();
    if (!tuning.isEmpty() && !(m_session && (m_session->settings || m_session->tuning))) {
        try {
            m_settings = core::settingsFromJson(tuning.toStdString(), "QSettings tuning/settings");
            m_panel->setQuantSettings(m_settings);
        } catch (const std::exception&) {
            settings.remove(QStringLiteral("tuning/settings")); // written by another version: defaults
        }
    }
}

bool MainWindow::confirmDiscard()
{
    if (!m_modified || !m_session || m_quietErrors)
        return true;
    const auto answer = QMessageBox::question(
        this, tr("Unsaved changes"), tr("The session has changes that are not saved. Save them?"),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Cancel)
        return false;
    return answer == QMessageBox::Discard || (m_path.isEmpty() ? saveAs() : saveSession(m_path));
}

void MainWindow::fitToScreen()
{
    // A geometry saved on a larger or another screen: keep the window on the available area
    // of the screen it is on (or the primary one), shrunk to fit when it is larger.
    QScreen* screen = QGuiApplication::screenAt(geometry().center());
    if (!screen)
        screen = QGuiApplication::primaryScreen();
    if (!screen)
        return;
    const QRect avail = screen->availableGeometry();
    if (isMaximized() || isFullScreen())
        return;
    QRect g = geometry();
    const QSize frame = frameGeometry().size() - g.size();
    g.setWidth(std::min(g.width(), avail.width() - frame.width()));
    g.setHeight(std::min(g.height(), avail.height() - frame.height()));
    if (!avail.contains(g.topLeft()) || !avail.contains(g.bottomRight()))
        g.moveTopLeft(QPoint(std::clamp(g.left(), avail.left(), std::max(avail.left(), avail.right() - g.width())),
                             std::clamp(g.top(), avail.top(), std::max(avail.top(), avail.bottom() - g.height()))));
    setGeometry(g);
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (!confirmDiscard()) {
        event->ignore();
        return;
    }
    m_jobs->cancel(); // the controller waits for its worker when it goes away
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("tuning/settings"), QString::fromStdString(core::settingsToJson(m_settings)));
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() == 1 && (isSessionFile(urls.front()) || isModelFolder(urls.front())))
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() == 1 && isSessionFile(urls.front())) {
        event->acceptProposedAction();
        openSession(urls.front().toLocalFile());
    } else if (urls.size() == 1 && isModelFolder(urls.front())) {
        event->acceptProposedAction();
        startOpenModel(urls.front().toLocalFile());
    }
}

void MainWindow::showAbout()
{
    QMessageBox::about(this, tr("About MorphoQuant Workbench"),
                       tr("MorphoQuant Workbench %1\nModality-aware 4-bit post-training quantization "
                          "(DABC + MDQFO).")
                           .arg(QStringLiteral(PROJECT_VERSION_STRING)));
}

} // namespace mq::ui
