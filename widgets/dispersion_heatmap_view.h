#pragma once
// Heatmap of dispersion scores D_c: one row per input group (network order, top to bottom), one
// column per input channel; shorter groups are padded with NaN (drawn transparent). The scores
// are those of every token (pooled) or of one modality's tokens; a group the modality never
// reached is a transparent row.
//
// Deep and wide models (a 7B model: 112 rows of up to 18944 channels) are drawn at display
// resolution: when the visible channel range holds more channels than the plot has pixel
// columns, each cell of the color map is the maximum D_c of a run of adjacent channels (the
// outliers stay visible); zooming in until a cell is one channel shows full resolution. Hover
// and click always name the channel under the cursor and its own score.
#include <QWidget>

#include <map>
#include <string>
#include <vector>

#include "quant/quant_settings.h"

class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPGraph;
class QCPItemRect;
class QMouseEvent;
class QResizeEvent;

namespace mq::core {
struct Session;
}

namespace mq::ui {

class DispersionHeatmapView : public QWidget {
    Q_OBJECT
public:
    explicit DispersionHeatmapView(QWidget* parent = nullptr);

    // The session must outlive the view or be replaced; nullptr clears. Adopts the plan's form.
    void setSession(const core::Session* session);
    void setDispersionForm(core::DispersionForm form);
    core::DispersionForm dispersionForm() const { return m_form; }
    // -1: pooled; else a core::Modality. A modality without tokens in the session shows empty rows.
    void setModality(int modality);
    int modality() const { return m_modality; }
    QComboBox* modalityBox() const { return m_modalityBox; }
    // Outlines the row of `group` (empty: none).
    void setCurrentGroup(const QString& group);
    // Channels to mark with a cross (the compare view's channels whose DABC mask differs), by
    // input group; an empty map clears the marks.
    void setMarkedChannels(const std::map<std::string, std::vector<int>>& marks);
    int markedCount() const;
    // Outlines the column of one channel (-1: none).
    void setChannel(int channel);
    int channel() const { return m_channel; }
    QCPItemRect* channelOutline() const { return m_channelOutline; }

    QCustomPlot* plot() const { return m_plot; }
    QCPColorMap* colorMap() const { return m_map; }
    // Row of the color map holding `group` (cell y index), -1 if absent.
    int rowOfGroup(const QString& group) const;
    // Channels per color-map cell along x (1: full resolution) and the first channel of cell 0.
    int channelsPerCell() const { return m_step; }
    int firstChannel() const { return m_first; }
    // The full-resolution score of (row, channel); NaN where the row has no such channel.
    double score(int row, int channel) const;
    // Whole heatmaps up to this many cells are held at full resolution (tests lower it).
    static constexpr int64_t kFullResolutionCells = int64_t(1) << 20;
    void setFullResolutionCells(int64_t cells) { m_fullCells = cells; }

signals:
    void channelClicked(const QString& group, int channel);
    void dispersionFormChanged(core::DispersionForm form);
    // The form chosen in the view's own box (not set by setDispersionForm): the workbench makes
    // it the DABC form of every view.
    void dispersionFormChosen(core::DispersionForm form);

private:
    void rebuild();
    // Fills the color map for the visible channel range (binned when wider than the plot).
    void refreshCells();
    void resizeEvent(QResizeEvent* event) override;
    bool cellAt(const QPoint& pos, int* row, int* channel) const;
    void onMouseMove(QMouseEvent* event);
    void onMousePress(QMouseEvent* event);

    const core::Session* m_session = nullptr;
    core::DispersionForm m_form = core::DispersionForm::Code;
    int m_modality = -1;
    QComboBox* m_modalityBox = nullptr;
    QString m_currentGroup;
    QComboBox* m_formBox = nullptr;
    QCustomPlot* m_plot = nullptr;
    QCPColorMap* m_map = nullptr;
    QCPGraph* m_marks = nullptr;
    std::map<std::string, std::vector<int>> m_markedByGroup;
    void placeMarks();
    QCPColorScale* m_scale = nullptr;
    QCPItemRect* m_highlight = nullptr;
    QCPItemRect* m_channelOutline = nullptr;
    int m_channel = -1;
    std::vector<std::vector<double>> m_scores; // per row, full resolution
    int m_width = 0;                           // widest row
    int m_step = 1, m_first = 0;
    int64_t m_fullCells = kFullResolutionCells;
    bool m_refreshing = false;
};

} // namespace mq::ui
