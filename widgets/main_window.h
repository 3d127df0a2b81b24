#pragma once
// The workbench's main window: the module tree on the left, the views as dock widgets; the
// selection in the tree drives the views. Holds the open Session (the views point into it).
#include <QMainWindow>

#include <functional>
#include <memory>
#include <set>

#include "engine.h"
#include "session.h"

class QLabel;
class QMenu;
class QSortFilterProxyModel;
class QTreeView;
class QCustomPlot;
class QDockWidget;
class QAction;
class QUndoStack;

namespace mq::ui {

class GuideDialog;
class SensitivityView;
class CompareView;
class WelcomePage;

class SessionModel;
class DispersionHeatmapView;
class OutlierView;
class LossCurveView;
class MaskView;
class MaskJob;
class ThresholdPanel;
class JobController;
class JobPanel;
class LayerErrorView;
class PreviewJob;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    // Opens a `.mqs` session and shows it; returns false (and says why in a dialog unless quiet)
    // when the file cannot be read. The previous session stays open then.
    bool openSession(const QString& path, bool quiet = false);
    // Writes the session (atomically: an existing file is replaced only by a complete one).
    bool saveSession(const QString& path, bool quiet = false);
    QString sessionPath() const { return m_path; }
    bool isModified() const { return m_modified; }
    // Before the session is replaced (Reload, Open, Open Example, a recent file, a new model):
    // with unsaved changes, asks Save / Discard / Cancel as Quit does; false to keep the session.
    bool confirmDiscard();
    // View > Reset Layout: every view docked where it was at the first start, at the default
    // proportions of the current window size.
    void resetLayout();
    // The window inside the available area of its screen (a geometry saved on a larger screen).
    void fitToScreen();

    // Jobs (through jobs()): each returns false when it cannot start (a job runs, or what it
    // needs is missing; the status bar says which). Results replace the session when they
    // complete; cancel or failure leave it as it was.
    bool startOpenModel(const QString& dir);
    bool startCalibration(const QString& path, const QString& kind, int batchSize);
    bool startQuantize();
    bool startEvaluation(const QString& path, bool fpToo);
    bool startExport(const QString& dir, bool overwrite, core::ExportFormat format,
                     std::shared_ptr<core::ExportReport> report);
    // Tests and screenshots: job failures go to the status bar and the job log, not a dialog.
    void setQuietErrors(bool quiet) { m_quietErrors = quiet; }
    // Shows a session already in memory (tests, screenshots).
    void setSession(const core::Session& session, const QString& title = {});
    // Makes `group` the current input group of every view and of the tree.
    void selectGroup(const QString& group);
    QString currentGroup() const { return m_group; }
    // Makes `channel` of the current group the selected channel of every view (-1: none).
    void selectChannel(int channel);

    // The example session built with the workbench from stories260K, or empty when there is none.
    static QString exampleSessionPath();

    // Brings the dock of a view to the front: modules, summary, heatmap, outliers, mask, loss,
    // tuning, errors or jobs. False for an unknown name.
    bool raiseView(const QString& name);
    static QStringList viewNames();

    // Window geometry, dock layout and the last tuning from QSettings (not called for screenshots).
    void restoreSettings();

    SessionModel* sessionModel() const { return m_model; }
    QTreeView* moduleTree() const { return m_tree; }
    DispersionHeatmapView* heatmapView() const { return m_heatmap; }
    OutlierView* outlierView() const { return m_outliers; }
    LossCurveView* lossCurveView() const { return m_loss; }
    MaskView* maskView() const { return m_mask; }
    ThresholdPanel* thresholdPanel() const { return m_panel; }
    MaskJob* maskJob() const { return m_job; }
    PreviewJob* previewJob() const { return m_preview; }
    JobController* jobs() const { return m_jobs; }
    JobPanel* jobPanel() const { return m_jobPanel; }
    LayerErrorView* layerErrorView() const { return m_errors; }
    SensitivityView* sensitivityView() const { return m_sensitivity; }
    CompareView* compareView() const { return m_compare; }
    // File > Compare With Session: `path` as B beside the open session (false, and why in the
    // status bar, when it cannot be read or is another model). Study > Keep Plan for Comparison:
    // a copy of the open session as B.
    bool compareWithSession(const QString& path, bool quiet = false);
    void keepPlanForComparison();
    core::Engine& engine() const { return *m_engine; }
    QUndoStack* undoStack() const { return m_undo; }
    // The open session (nullptr if none); its plans follow the threshold panel once recomputed.
    const core::Session* session() const { return m_session.get(); }
    // DABC settings the masks are (being) computed with.
    core::DabcSettings dabcSettings() const { return m_settings.dabc; }
    // Everything the tuning panel shows: what the next quantization uses.
    core::QuantSettings quantSettings() const { return m_settings; }
    // Input groups whose clipping bounds come from a live MDQFO preview since the last quantization.
    const std::set<std::string>& previewGroups() const { return m_previewGroups; }

    // Undoable edits, also reached from the panel and the mask view (GUI thread).
    void setDabcSettings(const core::DabcSettings& settings);
    void setQuantSettings(const core::QuantSettings& settings);
    void toggleChannel(const QString& group, int channel);

    // The page shown instead of the docks while no session is open.
    WelcomePage* welcomePage() const { return m_welcome; }
    // Help > Guide and Glossary (non-modal; the same dialog each time).
    GuideDialog* showGuide();
    // Actions that need a session (save, export, calibrate, ...) and Cancel Job.
    QList<QAction*> sessionActions() const { return m_sessionActions; }
    QAction* cancelAction() const { return m_cancelAction; }

protected:
    void closeEvent(QCloseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void showEvent(QShowEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createMenus();
    void createDocks();
    void openSessionDialog();
    void mpiLauncherDialog();
    void openModelDialog();
    void calibrateDialog();
    void evaluateDialog();
    void exportDialog();
    bool saveAs();
    void openExample();
    void setLanguage(const QString& code);
    // Runs body as a job; onDone gets the worker's session when it completes (GUI thread).
    bool runJob(const QString& title, std::function<QString(core::Session&, const core::ProgressSink&,
                                                            const core::CancelToken&)> body,
                std::function<void(std::shared_ptr<core::Session>)> onDone, bool needsSession = true);
    void onJobEnded();
    // Copies `session` in and points every view at the copy; drops pending mask/preview results.
    void replaceSession(const core::Session& session);
    // Shows a job's result session, keeping path, selection and undo history.
    void adoptSession(const core::Session& session);
    void setModified(bool modified);
    void updateTitle();
    void updatePlanStatus();
    void updateTreeColumns();
    void requestPreview();
    void onPreviewReady(const std::vector<core::GroupPreview>& previews, double seconds);
    void reloadSession();
    void showAbout();
    void addRecentFile(const QString& path);
    void updateRecentMenu();
    void updateSummary();
    void onTreeSelection();
    // Without undo: shows `settings` in the panel and starts what they affect (mask recompute,
    // MDQFO preview of the current layer).
    void applyQuantSettings(const core::QuantSettings& settings);
    // Without undo: sets a channel's mask bit and handEdited bit.
    void setChannelMask(const std::string& group, int channel, uint8_t mask, uint8_t handEdited);
    void onMasksReady(const std::map<std::string, core::GroupPlan>& plans);
    void refreshPlanViews();
    void updateLossOutOfDate();
    // Enables what the session and the job state allow; shows the welcome page without a session.
    void updateActionStates();
    void placeWelcome();

    friend class QuantSettingsCommand;
    friend class ToggleChannelCommand;

    std::shared_ptr<core::Engine> m_engine;
    std::unique_ptr<core::Session> m_session;
    QString m_path;
    QString m_title;
    bool m_modified = false;
    bool m_quietErrors = false;
    std::set<std::string> m_previewGroups;
    bool m_previewAfterMasks = false;
    std::function<void(std::shared_ptr<core::Session>)> m_onJobDone;
    QString m_group;
    SessionModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
    QTreeView* m_tree = nullptr;
    DispersionHeatmapView* m_heatmap = nullptr;
    OutlierView* m_outliers = nullptr;
    LossCurveView* m_loss = nullptr;
    MaskView* m_mask = nullptr;
    ThresholdPanel* m_panel = nullptr;
    MaskJob* m_job = nullptr;
    PreviewJob* m_preview = nullptr;
    JobController* m_jobs = nullptr;
    JobPanel* m_jobPanel = nullptr;
    LayerErrorView* m_errors = nullptr;
    QDockWidget* m_jobDock = nullptr;
    QByteArray m_defaultLayout;
    void defaultDockSizes();
    QDockWidget* m_lossDock = nullptr;
    QList<QAction*> m_jobActions; // disabled while a job runs
    QList<QAction*> m_sessionActions; // disabled without a session
    QAction* m_cancelAction = nullptr;
    WelcomePage* m_welcome = nullptr;
    SensitivityView* m_sensitivity = nullptr;
    CompareView* m_compare = nullptr;
    GuideDialog* m_guide = nullptr;
    QUndoStack* m_undo = nullptr;
    core::QuantSettings m_settings;
    QLabel* m_summary = nullptr;
    QLabel* m_modelLabel = nullptr;
    QLabel* m_planLabel = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_viewMenu = nullptr;
    QMenu* m_exportMenu = nullptr;
};

} // namespace mq::ui
