#include "main_window.h"

#include "dispersion_heatmap_view.h"
#include "io/session_store.h"
#include "loss_curve_view.h"
#include "mask_job.h"
#include "mask_view.h"
#include "outlier_view.h"
#include "plot_export.h"
#include "session_model.h"
#include "threshold_panel.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
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
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QTreeView>
#include <QUndoCommand>
#include <QUndoStack>

namespace mq::ui {

namespace {
constexpr int kMaxRecent = 8;
const char* kRecentKey = "recentFiles";

bool isSessionFile(const QUrl& url)
{
    return url.isLocalFile() && url.toLocalFile().endsWith(QLatin1String(".mqs"), Qt::CaseInsensitive);
}
} // namespace

// A threshold edit: redo/undo show the settings in the panel and recompute the masks.
class DabcSettingsCommand : public QUndoCommand {
public:
    DabcSettingsCommand(MainWindow* w, const core::DabcSettings& before, const core::DabcSettings& after)
        : m_w(w), m_before(before), m_after(after)
    {
        setText(before.k != after.k ? MainWindow::tr("k %1 \u2192 %2").arg(before.k).arg(after.k)
                                    : MainWindow::tr("DABC threshold settings"));
    }
    void redo() override { m_w->applyDabcSettings(m_after); }
    void undo() override { m_w->applyDabcSettings(m_before); }

private:
    MainWindow* m_w;
    core::DabcSettings m_before, m_after;
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

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
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
    createDocks();
    createMenus();

    m_modelLabel = new QLabel(this);
    m_planLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_modelLabel);
    statusBar()->addPermanentWidget(m_planLabel);
    statusBar()->showMessage(tr("Open a session (.mqs) made by morphoquant-cli quantize --session."));
    updateSummary();
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
    m_tree->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &MainWindow::onTreeSelection);

    m_heatmap = new DispersionHeatmapView(this);
    m_outliers = new OutlierView(this);
    m_loss = new LossCurveView(this);
    m_mask = new MaskView(this);
    m_panel = new ThresholdPanel(this);
    connect(m_panel, &ThresholdPanel::settingsChanged, this, &MainWindow::setDabcSettings);
    connect(m_mask, &MaskView::channelClicked, this, &MainWindow::toggleChannel);
    m_summary = new QLabel(this);
    m_summary->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_summary->setMargin(8);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setWordWrap(true);

    connect(m_heatmap, &DispersionHeatmapView::channelClicked, this, [this](const QString& group, int channel) {
        selectGroup(group);
        m_outliers->setChannel(channel);
        statusBar()->showMessage(tr("Channel %1 of %2").arg(channel).arg(group), 5000);
    });
    connect(m_heatmap, &DispersionHeatmapView::dispersionFormChanged, m_model, &SessionModel::setDispersionForm);

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
    QDockWidget* panelDock = dock(m_panel, tr("DABC Threshold"), QStringLiteral("thresholdDock"));

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
    maskDock->raise();
    resizeDocks({treeDock, heatDock}, {480, 920}, Qt::Horizontal);
    resizeDocks({heatDock, outlierDock}, {430, 400}, Qt::Vertical);
    resizeDocks({treeDock, panelDock}, {640, 200}, Qt::Vertical);

    m_viewMenu = new QMenu(tr("&View"), this);
    const QList<QDockWidget*> docks{treeDock, summaryDock, heatDock, outlierDock, maskDock, lossDock, panelDock};
    for (int i = 0; i < docks.size(); ++i) {
        QAction* a = docks[i]->toggleViewAction();
        a->setShortcut(QKeySequence(Qt::ALT | Qt::Key(Qt::Key_1 + i)));
        m_viewMenu->addAction(a);
    }
}

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open Session..."), this, &MainWindow::openSessionDialog);
    open->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    QAction* reload = file->addAction(tr("Re&load"), this, &MainWindow::reloadSession);
    reload->setShortcut(QKeySequence::Refresh);
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
    m_exportMenu->addSeparator();
    m_exportMenu->addAction(tr("PNG and PDF only (this build has no SVG support)"))->setEnabled(false);
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

    menuBar()->addMenu(m_viewMenu);
    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About MorphoQuant Workbench"), this, &MainWindow::showAbout);
    updateRecentMenu();
}

bool MainWindow::openSession(const QString& path, bool quiet)
{
    try {
        core::Session s = core::loadSession(path.toStdString());
        setSession(s, QFileInfo(path).fileName());
        m_path = path;
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

void MainWindow::setSession(const core::Session& session, const QString& title)
{
    // Views hold a pointer into the session: detach them before the old one goes away.
    auto next = std::make_unique<core::Session>(session);
    m_model->setSession(next.get());
    m_heatmap->setSession(next.get());
    m_outliers->setSession(next.get());
    m_loss->setSession(next.get());
    m_mask->setSession(next.get());
    m_session = std::move(next);
    // Results computed for the previous session must not land in this one.
    m_job->cancel();
    m_undo->clear();
    m_dabc = m_session->settings ? m_session->settings->dabc : core::DabcSettings{};
    m_panel->setSettings(m_dabc);
    m_path.clear();
    setWindowTitle(title.isEmpty() ? tr("MorphoQuant Workbench")
                                   : tr("%1 \u2014 MorphoQuant Workbench").arg(title));
    m_tree->expandAll();
    updateSummary();
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

void MainWindow::selectGroup(const QString& group)
{
    if (group == m_group)
        return;
    m_group = group;
    m_heatmap->setCurrentGroup(group);
    m_outliers->setGroup(group);
    m_loss->setGroup(group);
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
    if (ThresholdPanel::sameSettings(settings, m_dabc))
        return;
    m_undo->push(new DabcSettingsCommand(this, m_dabc, settings));
}

void MainWindow::applyDabcSettings(const core::DabcSettings& settings)
{
    m_dabc = settings;
    m_panel->setSettings(settings);
    if (!m_session)
        return;
    // The worker gets its own copy of what computeMasks reads; the views keep the window's.
    core::Session copy;
    copy.modules = m_session->modules;
    copy.groups = m_session->groups;
    copy.stats = m_session->stats;
    copy.plans = m_session->plans;
    m_job->request(std::move(copy), settings);
    statusBar()->showMessage(tr("Recomputing the DABC mask..."));
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
    if (m_session->settings)
        m_session->settings->dabc = m_dabc;
    m_heatmap->setDispersionForm(m_dabc.form);
    refreshPlanViews();
}

void MainWindow::refreshPlanViews()
{
    m_model->refreshFigures();
    m_mask->refresh();
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
                    .arg(masked);
    for (const auto& e : s.evals)
        text += tr("\n%1: perplexity %2").arg(QString::fromStdString(e.label)).arg(e.ppl, 0, 'f', 4);
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
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Session"), QString(),
                                                      tr("MorphoQuant sessions (*.mqs);;All files (*)"));
    if (!path.isEmpty())
        openSession(path);
}

void MainWindow::reloadSession()
{
    if (!m_path.isEmpty())
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
                                             [this, path] { openSession(path); });
        a->setToolTip(path);
    }
    m_recentMenu->setEnabled(!files.isEmpty());
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
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() == 1 && isSessionFile(urls.front()))
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() == 1 && isSessionFile(urls.front())) {
        event->acceptProposedAction();
        openSession(urls.front().toLocalFile());
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
