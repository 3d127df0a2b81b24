#pragma once
// The workbench's main window: the module tree on the left, the views as dock widgets; the
// selection in the tree drives the views. Holds the open Session (the views point into it).
#include <QMainWindow>

#include <memory>

#include "session.h"

class QLabel;
class QMenu;
class QSortFilterProxyModel;
class QTreeView;
class QCustomPlot;
class QUndoStack;

namespace mq::ui {

class SessionModel;
class DispersionHeatmapView;
class OutlierView;
class LossCurveView;
class MaskView;
class MaskJob;
class ThresholdPanel;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    // Opens a `.mqs` session and shows it; returns false (and says why in a dialog unless quiet)
    // when the file cannot be read. The previous session stays open then.
    bool openSession(const QString& path, bool quiet = false);
    // Shows a session already in memory (tests, screenshots).
    void setSession(const core::Session& session, const QString& title = {});
    // Makes `group` the current input group of every view and of the tree.
    void selectGroup(const QString& group);
    QString currentGroup() const { return m_group; }

    // Window geometry and dock layout from QSettings (not called for screenshots).
    void restoreSettings();

    SessionModel* sessionModel() const { return m_model; }
    QTreeView* moduleTree() const { return m_tree; }
    DispersionHeatmapView* heatmapView() const { return m_heatmap; }
    OutlierView* outlierView() const { return m_outliers; }
    LossCurveView* lossCurveView() const { return m_loss; }
    MaskView* maskView() const { return m_mask; }
    ThresholdPanel* thresholdPanel() const { return m_panel; }
    MaskJob* maskJob() const { return m_job; }
    QUndoStack* undoStack() const { return m_undo; }
    // The open session (nullptr if none); its plans follow the threshold panel once recomputed.
    const core::Session* session() const { return m_session.get(); }
    // DABC settings the masks are (being) computed with.
    core::DabcSettings dabcSettings() const { return m_dabc; }

    // Undoable edits, also reached from the panel and the mask view (GUI thread).
    void setDabcSettings(const core::DabcSettings& settings);
    void toggleChannel(const QString& group, int channel);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createMenus();
    void createDocks();
    void openSessionDialog();
    void reloadSession();
    void showAbout();
    void addRecentFile(const QString& path);
    void updateRecentMenu();
    void updateSummary();
    void onTreeSelection();
    // Without undo: shows `settings` in the panel and starts the recompute.
    void applyDabcSettings(const core::DabcSettings& settings);
    // Without undo: sets a channel's mask bit and handEdited bit.
    void setChannelMask(const std::string& group, int channel, uint8_t mask, uint8_t handEdited);
    void onMasksReady(const std::map<std::string, core::GroupPlan>& plans);
    void refreshPlanViews();

    friend class DabcSettingsCommand;
    friend class ToggleChannelCommand;

    std::unique_ptr<core::Session> m_session;
    QString m_path;
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
    QUndoStack* m_undo = nullptr;
    core::DabcSettings m_dabc;
    QLabel* m_summary = nullptr;
    QLabel* m_modelLabel = nullptr;
    QLabel* m_planLabel = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_viewMenu = nullptr;
    QMenu* m_exportMenu = nullptr;
};

} // namespace mq::ui
