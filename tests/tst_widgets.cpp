// The workbench views: each plot's DATA (not its pixels) must match the session it shows.
// Runs offscreen (QT_QPA_PLATFORM=offscreen from CTest).
#include <QFileInfo>
#include <QComboBox>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QDoubleSpinBox>
#include <QTreeView>
#include <QUndoStack>
#include <QtTest/QtTest>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

#include "calib/channel_stats.h"
#include "dispersion_heatmap_view.h"
#include "loss_curve_view.h"
#include "main_window.h"
#include "mask_job.h"
#include "mask_view.h"
#include "quant/dabc_mask.h"
#include "threshold_panel.h"
#include "outlier_view.h"
#include "plot_export.h"
#include "session.h"
#include "session_model.h"
#include "io/session_store.h"
#include "layer_error_view.h"
#include "guide_dialog.h"
#include "sensitivity_view.h"
#include "compare_view.h"
#include <QTableWidget>
#include "welcome_page.h"
#include <QListWidget>
#include <QMenuBar>
#include <QStatusBar>
#include <QPushButton>
#include <QTextBrowser>

using namespace mq::core;
using namespace mq::ui;

namespace {

// Rows of a [rows, k] matrix: channel c of row r is (r + 1) * (c + 1) * scale * sign.
std::vector<float> ramp(int rows, int k, float scale)
{
    std::vector<float> x(size_t(rows * k));
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < k; ++c)
            x[size_t(r * k + c)] = float((r + 1) * (c + 1)) * scale * (r % 2 ? -1.0f : 1.0f);
    return x;
}

ModuleInfo module(const std::string& name, int layer, const std::string& kind, const std::string& group,
                  int64_t in, int64_t out)
{
    ModuleInfo m;
    m.name = name;
    m.layer = layer;
    m.kind = kind;
    m.inputGroup = group;
    m.inFeatures = in;
    m.outFeatures = out;
    return m;
}

// Two layers, three input groups of 4, 6 and 4 channels; text and image statistics (image only
// for the first group), a plan per group and a loss curve for the first.
Session makeSession()
{
    Session s;
    s.model.path = "/models/tiny";
    s.model.architecture = "llama";
    s.groups = {"layers.0.attn_in", "layers.0.down_in", "layers.1.attn_in"};
    s.modules = {module("model.layers.0.self_attn.q_proj", 0, "q_proj", "layers.0.attn_in", 4, 4),
                 module("model.layers.0.self_attn.k_proj", 0, "k_proj", "layers.0.attn_in", 4, 2),
                 module("model.layers.0.mlp.down_proj", 0, "down_proj", "layers.0.down_in", 6, 4),
                 module("model.layers.1.self_attn.q_proj", 1, "q_proj", "layers.1.attn_in", 4, 4)};
    const int widths[] = {4, 6, 4};
    for (size_t g = 0; g < s.groups.size(); ++g) {
        const int k = widths[g];
        InputStats st;
        st.perModality[0].reset(k);
        const std::vector<float> text = ramp(5, k, 0.5f * float(g + 1));
        st.perModality[0].accumulate(text.data(), 5, "text");
        st.pooled.reset(k);
        st.pooled.merge(st.perModality[0]);
        if (g == 0) {
            st.perModality[1].reset(k);
            const std::vector<float> image = ramp(3, k, 4.0f);
            st.perModality[1].accumulate(image.data(), 3, "image");
            st.pooled.merge(st.perModality[1]);
        }
        GroupPlan p;
        p.scores = dispersionScores(st.pooled, DispersionForm::Code);
        for (int c = 0; c < k; ++c) // the last channel, and in the second group the first too
            p.mask.push_back(uint8_t(c == k - 1 || (g == 1 && c == 0)));
        p.tauLocal = 1.5 + double(g);
        p.tauGlobal = 2.0;
        for (int c = 0; c < k; ++c) {
            p.alpha0.push_back(float(st.pooled.absMax(c)));
            p.alpha.push_back(0.8f * float(st.pooled.absMax(c)));
        }
        s.stats[s.groups[g]] = st;
        s.plans[s.groups[g]] = p;
    }
    LossCurve curve;
    curve.group = "layers.0.attn_in";
    for (int i = 0; i < 5; ++i)
        curve.points.push_back(LossPoint{i, 1.0 / (i + 1), 0.1 / (i + 1), 1.1 / (i + 1)});
    s.curves.push_back(curve);
    QuantSettings q;
    q.method = "morphoquant";
    q.dabc.forceKinds = {"down_proj"}; // the authors' masks: groups of 4-6 channels, no cap
    q.dabc.maxShare = 1.0;
    s.settings = q;
    return s;
}

// With MQ_WIDGET_SHOTS=DIR set, a picture of `w` as DIR/NAME.png (to look at a state a test
// reaches; nothing is checked on the picture).
void maybeShoot(QWidget& w, const QString& name)
{
    const QString dir = qEnvironmentVariable("MQ_WIDGET_SHOTS");
    if (dir.isEmpty())
        return;
    QCoreApplication::processEvents(); // queued replots
    w.grab().save(dir + QLatin1Char('/') + name + QStringLiteral(".png"));
}

double maxOf(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

int ones(const std::vector<uint8_t>& m) { return int(std::count(m.begin(), m.end(), uint8_t(1))); }

int totalMasked(const Session& s)
{
    int n = 0;
    for (const auto& [g, p] : s.plans)
        n += ones(p.mask);
    return n;
}

// The masks computeMasks gives the window's session for `k` (hand edits as in `s`).
Session expectedMasks(const Session& s, double k)
{
    Session e = s;
    DabcSettings st = s.settings ? s.settings->dabc : DabcSettings{};
    st.k = k;
    computeMasks(e, st);
    return e;
}

} // namespace

class TestWidgets : public QObject {
    Q_OBJECT
private slots:
    void sessionModelTree();
    void sessionModelSorts();
    void heatmapCells_data();
    void heatmapCells();
    void heatmapBinsWideModelsAndZoomsToChannels();
    void outlierHistograms();
    void lossCurve();
    void maskBars_data();
    void maskBars();
    void mainWindowDrivesViews();
    void exportPlot();
    void thresholdPanelEmits();
    void tuningPanelCarriesGptqAndFormats();
    void tuningPanelQuantizesEncodersWhereCalibrated();
    void tuningPanelOffersDeployableWhereItFolds();
    void thresholdChangeRecomputes();
    void staleResultDropped();
    void undoRestoresThreshold();
    void handEditSurvivesRecompute();
    void tuningAndLayoutPersist();
    void channelSelectedEverywhere();
    void tuningPanelFitsNarrowDock();
    void staleResultsMarkedEverywhere();
    void tuningEditsTravelWithTheSession();
    void oneScoreChoiceForEveryView();
    void welcomePageUntilASessionOpens();
    void guideListsTermsAndShortcuts();
    void sensitivityByLayerAndModality();
    void compareTwoRecipes();
};

void TestWidgets::sessionModelTree()
{
    const Session s = makeSession();
    SessionModel model;
    model.setSession(&s);
    QCOMPARE(model.rowCount(), 2);
    const QModelIndex layer0 = model.index(0, 0);
    QCOMPARE(model.rowCount(layer0), 3);
    QCOMPARE(model.rowCount(model.index(1, 0)), 1);
    const QModelIndex down = model.index(2, SessionModel::MaxScoreColumn, layer0);
    QCOMPARE(model.index(2, SessionModel::NameColumn, layer0).data().toString(), QStringLiteral("mlp.down_proj"));
    const double expected = maxOf(dispersionScores(s.stats.at("layers.0.down_in").pooled, DispersionForm::Code));
    QCOMPARE(down.data(SessionModel::SortRole).toDouble(), expected);
    QCOMPARE(down.data().toString(), QString::number(expected, 'g', 4));
    QCOMPARE(model.index(2, SessionModel::MaskedColumn, layer0).data().toInt(), 2);
    QCOMPARE(model.index(2, SessionModel::ShapeColumn, layer0).data().toString(), QStringLiteral("6 \u2192 4"));
    QCOMPARE(model.index(0, SessionModel::LossColumn, layer0).data(SessionModel::SortRole).toDouble(), 1.1 / 5);
    QVERIFY(model.index(2, SessionModel::LossColumn, layer0).data().toString().isEmpty()); // no curve
    // Layer row: the masked channels of its distinct groups (1 + 2), not per module.
    QCOMPARE(model.index(0, SessionModel::MaskedColumn).data().toInt(), 3);
    model.setDispersionForm(DispersionForm::Paper);
    const double paper = maxOf(dispersionScores(s.stats.at("layers.0.down_in").pooled, DispersionForm::Paper));
    QCOMPARE(model.index(2, SessionModel::MaxScoreColumn, model.index(0, 0)).data(SessionModel::SortRole).toDouble(), paper);
}

void TestWidgets::sessionModelSorts()
{
    const Session s = makeSession();
    SessionModel model;
    model.setSession(&s);
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&model);
    proxy.setSortRole(SessionModel::SortRole);
    proxy.sort(SessionModel::MaskedColumn, Qt::DescendingOrder);
    const QModelIndex layer0 = proxy.index(0, 0);
    QCOMPARE(layer0.data().toString(), QStringLiteral("Layer 0"));
    QCOMPARE(proxy.index(0, SessionModel::KindColumn, layer0).data().toString(), QStringLiteral("down_proj"));
    // The name column sorts by execution order (the session's module order), not alphabetically.
    proxy.sort(SessionModel::NameColumn, Qt::AscendingOrder);
    const QModelIndex first = proxy.index(0, 0);
    QStringList kinds;
    for (int r = 0; r < proxy.rowCount(first); ++r)
        kinds << proxy.index(r, SessionModel::KindColumn, first).data().toString();
    QStringList expected;
    for (const mq::core::ModuleInfo& m : s.modules)
        if (m.layer == 0)
            expected << QString::fromStdString(m.kind);
    QCOMPARE(kinds, expected);
    QVERIFY(expected.size() > 1);
    QVERIFY2(kinds != [&] { QStringList k = kinds; k.sort(); return k; }(), "the order should not be alphabetical here");
}

void TestWidgets::heatmapCells_data()
{
    QTest::addColumn<int>("form");
    QTest::newRow("code") << int(DispersionForm::Code);
    QTest::newRow("paper") << int(DispersionForm::Paper);
}

void TestWidgets::heatmapCells()
{
    QFETCH(int, form);
    const Session s = makeSession();
    DispersionHeatmapView view;
    view.setSession(&s);
    view.setDispersionForm(DispersionForm(form));
    QCPColorMapData* data = view.colorMap()->data();
    QCOMPARE(data->keySize(), 6);   // widest group
    QCOMPARE(data->valueSize(), 3); // one row per group
    for (int row = 0; row < 3; ++row) {
        const std::vector<double> d = dispersionScores(s.stats.at(s.groups[size_t(row)]).pooled, DispersionForm(form));
        for (int c = 0; c < 6; ++c) {
            if (c < int(d.size()))
                QCOMPARE(data->cell(c, row), d[size_t(c)]);
            else
                QVERIFY(std::isnan(data->cell(c, row))); // padding of a narrower group
        }
    }
    QCOMPARE(view.rowOfGroup(QStringLiteral("layers.1.attn_in")), 2);

    // One modality's tokens: the image statistics where the group saw images, empty rows elsewhere.
    Session mm = s;
    mm.calibration.tokens = {15, 3, 0, 0}; // text and image tokens, no video, no audio
    view.setSession(&mm);
    QVERIFY(!qobject_cast<QStandardItemModel*>(view.modalityBox()->model())->item(1 + int(Modality::Video))->isEnabled());
    QVERIFY(qobject_cast<QStandardItemModel*>(view.modalityBox()->model())->item(1 + int(Modality::Image))->isEnabled());
    view.setModality(int(Modality::Image));
    QCOMPARE(view.modalityBox()->currentData().toInt(), int(Modality::Image));
    int imageRows = 0;
    for (int row = 0; row < 3; ++row) {
        const ChannelStats& st = mm.stats.at(mm.groups[size_t(row)]).perModality[size_t(Modality::Image)];
        if (st.empty()) {
            for (int c = 0; c < 6; ++c)
                QVERIFY(std::isnan(data->cell(c, row)));
            continue;
        }
        ++imageRows;
        const std::vector<double> d = dispersionScores(st, view.dispersionForm());
        for (size_t c = 0; c < d.size(); ++c)
            QCOMPARE(data->cell(int(c), row), d[c]);
    }
    QVERIFY(imageRows > 0 && imageRows < 3); // the fixture has groups with and without images
    // A session without image tokens falls back to pooled.
    Session textOnly = s;
    textOnly.calibration.tokens = {15, 0, 0, 0};
    view.setSession(&textOnly);
    QCOMPARE(view.modality(), -1);
    QCOMPARE(data->cell(0, 0), dispersionScores(s.stats.at(s.groups[0]).pooled, view.dispersionForm())[0]);
}

// A map wider than the full-resolution limit is drawn at display resolution: each cell the max
// of a run of channels (an outlier stays visible), full resolution once zoomed in; hover and
// click name the channel under the cursor whatever the binning.
void TestWidgets::heatmapBinsWideModelsAndZoomsToChannels()
{
    Session s;
    s.model.path = "/models/wide";
    const int rows = 6, k = 3000;
    for (int g = 0; g < rows; ++g) {
        s.groups.push_back("layers." + std::to_string(g / 4) + ".group" + std::to_string(g % 4));
        InputStats st;
        st.perModality[0].reset(k);
        std::vector<float> x(size_t(4 * k));
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < k; ++c) // a smooth profile with one spike per row
                x[size_t(r * k + c)] = float((r % 2 ? -1 : 1) * (1.0 + 0.001 * c + (c == 700 + 311 * g ? 50.0 : 0.0)));
        st.perModality[0].accumulate(x.data(), 4, "text");
        st.pooled.reset(k);
        st.pooled.merge(st.perModality[0]);
        s.stats[s.groups.back()] = st;
    }
    s.calibration.tokens = {4, 0, 0, 0};
    DispersionHeatmapView view;
    view.setFullResolutionCells(1000); // 18000 cells: binned
    view.resize(900, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setSession(&s);
    QCPColorMapData* data = view.colorMap()->data();
    const int step = view.channelsPerCell();
    QVERIFY2(step > 1, qPrintable(QString::number(step)));
    QVERIFY(data->keySize() <= view.plot()->width()); // one cell per pixel column at most
    QCOMPARE(data->valueSize(), rows);
    for (int r = 0; r < rows; ++r) {
        const std::vector<double> d = dispersionScores(s.stats.at(s.groups[size_t(r)]).pooled, DispersionForm::Code);
        for (int i = 0; i < data->keySize(); ++i) {
            double mx = -1e300;
            for (int c = i * step; c < std::min(k, (i + 1) * step); ++c)
                mx = std::max(mx, d[size_t(c)]);
            QCOMPARE(data->cell(i, r), mx);
        }
        // the spike's cell holds the spike
        const int spike = 700 + 311 * r;
        QCOMPARE(data->cell(spike / step, r), d[size_t(spike)]);
        QVERIFY(d[size_t(spike)] > 2 * d[size_t(spike + 1)]);
    }
    // Zoomed in to 51 channels: one cell per channel, the exact scores.
    view.plot()->xAxis->setRange(99.5, 150.5);
    QCOMPARE(view.channelsPerCell(), 1);
    QCOMPARE(view.firstChannel(), 100);
    QCOMPARE(data->keySize(), 51);
    const std::vector<double> d2 = dispersionScores(s.stats.at(s.groups[2]).pooled, DispersionForm::Code);
    for (int i = 0; i < 51; ++i)
        QCOMPARE(data->cell(i, 2), d2[size_t(100 + i)]);
    double key = 0, value = 0;
    data->cellToCoord(7, 2, &key, &value);
    QCOMPARE(key, 107.0); // cell centres sit on their channels
    // A click names the channel under the cursor, binned or not.
    view.plot()->xAxis->setRange(-0.5, k - 0.5);
    view.plot()->replot();
    QVERIFY(view.channelsPerCell() > 1);
    QSignalSpy clicked(&view, &DispersionHeatmapView::channelClicked);
    const QPoint at(int(std::lround(view.plot()->xAxis->coordToPixel(1234))),
                    int(std::lround(view.plot()->yAxis->coordToPixel(3))));
    QTest::mouseClick(view.plot(), Qt::LeftButton, {}, at);
    QCOMPARE(clicked.size(), 1);
    QCOMPARE(clicked.at(0).at(0).toString(), QString::fromStdString(s.groups[3]));
    const int channel = clicked.at(0).at(1).toInt();
    QVERIFY2(std::abs(channel - 1234) <= view.channelsPerCell(), qPrintable(QString::number(channel)));
}

void TestWidgets::outlierHistograms()
{
    const Session s = makeSession();
    OutlierView view;
    view.setSession(&s);
    view.setGroup(QStringLiteral("layers.0.attn_in"));
    QCOMPARE(int(view.histograms().size()), 2); // text and image: the modalities with data
    for (QCPGraph* g : view.histograms()) {
        double total = 0;
        for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
            total += it->value;
        QCOMPARE(total, 4.0); // every channel counted once
    }
    const GroupPlan& p = s.plans.at("layers.0.attn_in");
    std::vector<float> sorted(p.alpha);
    std::sort(sorted.begin(), sorted.end());
    const std::vector<double> lines = view.alphaLines();
    QCOMPARE(int(lines.size()), 3);
    QCOMPARE(lines[0], double(sorted.front()));
    QCOMPARE(lines[1], double(sorted[sorted.size() / 2]));
    QCOMPARE(lines[2], double(sorted.back()));
    view.setChannel(2);
    const std::vector<double> one = view.alphaLines();
    QCOMPARE(int(one.size()), 2);
    QCOMPARE(one[0], double(p.alpha0[2]));
    QCOMPARE(one[1], double(p.alpha[2]));

    // One box per modality with data; its quartiles are those of the channels' max|x| (4
    // channels: linear interpolation between order statistics, as numpy's default). The figures
    // are sums of at most two doubles, so QCOMPARE's fuzzy compare is the right tolerance.
    QCOMPARE(int(view.boxes().size()), 2);
    for (int b = 0; b < 2; ++b) {
        const ChannelStats& cs = s.stats.at("layers.0.attn_in").perModality[size_t(b)]; // text, image
        std::vector<double> v;
        for (int64_t c = 0; c < cs.channels; ++c)
            v.push_back(cs.absMax(c));
        std::sort(v.begin(), v.end());
        QCOMPARE(int(v.size()), 4);
        const QCPStatisticalBoxData& d = *view.boxes()[size_t(b)]->data()->constBegin();
        QCOMPARE(d.key, double(b));
        QCOMPARE(d.median, (v[1] + v[2]) / 2);
        QCOMPARE(d.lowerQuartile, v[0] + 0.75 * (v[1] - v[0]));
        QCOMPARE(d.upperQuartile, v[2] + 0.25 * (v[3] - v[2]));
        // Whiskers and outliers together cover the sample's extremes.
        const double lo = d.outliers.isEmpty() ? d.minimum : std::min(d.minimum, *std::min_element(d.outliers.begin(), d.outliers.end()));
        const double hi = d.outliers.isEmpty() ? d.maximum : std::max(d.maximum, *std::max_element(d.outliers.begin(), d.outliers.end()));
        QCOMPARE(lo, v.front());
        QCOMPARE(hi, v.back());
    }

    view.setGroup(QStringLiteral("layers.0.down_in"));
    QCOMPARE(int(view.histograms().size()), 1); // text only
    QCOMPARE(int(view.boxes().size()), 1);
    view.setGroup(QStringLiteral("no.such.group"));
    QVERIFY(view.histograms().empty());
    QVERIFY(view.boxes().empty());
}

void TestWidgets::lossCurve()
{
    const Session s = makeSession();
    LossCurveView view;
    view.setSession(&s);
    view.setGroup(QStringLiteral("layers.0.attn_in"));
    const LossCurve& c = s.curves.front();
    QCOMPARE(view.totalGraph()->dataCount(), int(c.points.size()));
    for (int i = 0; i < int(c.points.size()); ++i) {
        QCOMPARE(view.lpGraph()->data()->at(i)->key, double(c.points[size_t(i)].step));
        QCOMPARE(view.lpGraph()->data()->at(i)->value, c.points[size_t(i)].lp);
        QCOMPARE(view.cosGraph()->data()->at(i)->value, c.points[size_t(i)].lcos);
        QCOMPARE(view.totalGraph()->data()->at(i)->value, c.points[size_t(i)].total);
    }
    view.setGroup(QStringLiteral("layers.1.attn_in")); // no curve
    QCOMPARE(view.totalGraph()->dataCount(), 0);
}

void TestWidgets::maskBars_data()
{
    QTest::addColumn<QString>("group");
    QTest::newRow("attn") << QStringLiteral("layers.0.attn_in");
    QTest::newRow("down") << QStringLiteral("layers.0.down_in");
}

void TestWidgets::maskBars()
{
    QFETCH(QString, group);
    const Session s = makeSession();
    MaskView view;
    view.setSession(&s);
    view.setGroup(group);
    const GroupPlan& p = s.plans.at(group.toStdString());
    const int ones = int(std::count(p.mask.begin(), p.mask.end(), uint8_t(1)));
    QCOMPARE(view.maskedBars()->dataCount(), ones);
    QCOMPARE(view.keptBars()->dataCount(), int(p.scores.size()) - ones);
    for (auto it = view.maskedBars()->data()->constBegin(); it != view.maskedBars()->data()->constEnd(); ++it) {
        QCOMPARE(int(p.mask[size_t(it->key)]), 1);
        QCOMPARE(it->value, p.scores[size_t(it->key)]);
    }
    QCOMPARE(view.tauLocalLine()->point1->coords().y(), p.tauLocal);
    QCOMPARE(view.tauGlobalLine()->point1->coords().y(), p.tauGlobal);
    QVERIFY(view.tauLocalLine()->visible());
}

void TestWidgets::mainWindowDrivesViews()
{
    const Session s = makeSession();
    MainWindow w;
    w.setSession(s, QStringLiteral("test"));
    // Opens on the group with the worst score.
    QString worst;
    double best = -1;
    for (const std::string& g : s.groups) {
        const double m = maxOf(dispersionScores(s.stats.at(g).pooled, DispersionForm::Code));
        if (m > best) {
            best = m;
            worst = QString::fromStdString(g);
        }
    }
    QCOMPARE(w.currentGroup(), worst);
    QCOMPARE(w.outlierView()->group(), worst);
    w.selectGroup(QStringLiteral("layers.1.attn_in"));
    QCOMPARE(w.outlierView()->group(), QStringLiteral("layers.1.attn_in"));
    QCOMPARE(w.moduleTree()->currentIndex().data(SessionModel::GroupRole).toString(), QStringLiteral("layers.1.attn_in"));
    QCOMPARE(w.maskView()->maskedBars()->dataCount(), 1);
    // The tree drives the views too.
    const QModelIndex first = w.moduleTree()->model()->index(0, 0);
    w.moduleTree()->setCurrentIndex(w.moduleTree()->model()->index(0, 0, first));
    QCOMPARE(w.currentGroup(), w.moduleTree()->currentIndex().data(SessionModel::GroupRole).toString());
    QCOMPARE(w.lossCurveView()->totalGraph()->dataCount() > 0, w.currentGroup() == QStringLiteral("layers.0.attn_in"));
}

void TestWidgets::exportPlot()
{
    const Session s = makeSession();
    MainWindow w;
    w.resize(1400, 900);
    w.setSession(s, QStringLiteral("test"));
    w.selectGroup(QStringLiteral("layers.0.attn_in"));
    // MQ_TST_WIDGETS_OUT=<folder> keeps the files, to look at them.
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString out = qEnvironmentVariableIsSet("MQ_TST_WIDGETS_OUT") ? qEnvironmentVariable("MQ_TST_WIDGETS_OUT")
                                                                         : tmp.path();
    const std::pair<const char*, QCustomPlot*> plots[] = {{"heatmap", w.heatmapView()->plot()},
                                                          {"outliers", w.outlierView()->plot()},
                                                          {"mask", w.maskView()->plot()},
                                                          {"loss", w.lossCurveView()->plot()}};
    for (const auto& [name, plot] : plots) {
        plot->resize(600, 400);
        for (const char* suffix : {".png", ".svg", ".pdf"}) {
            const QString path = out + QLatin1Char('/') + QLatin1String(name) + QLatin1String(suffix);
            QVERIFY2(savePlot(plot, path), qPrintable(path));
            QVERIFY(QFileInfo(path).size() > 100);
        }
        // The SVG is vector output of this plot: an <svg> document that carries the x axis label
        // as text (a raster fallback would not).
        QFile svg(out + QLatin1Char('/') + QLatin1String(name) + QStringLiteral(".svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        const QByteArray text = svg.readAll();
        QVERIFY(text.contains("<svg"));
        const QString label = plot->xAxis->label();
        if (!label.isEmpty())
            QVERIFY2(text.contains(label.toHtmlEscaped().toUtf8()), qPrintable(label));
    }
    QVERIFY(!savePlot(w.maskView()->plot(), out + QStringLiteral("/mask.bmp"))); // unknown format
}

void TestWidgets::thresholdPanelEmits()
{
    ThresholdPanel panel;
    DabcSettings st;
    st.k = 3.0;
    st.useGlobal = false;
    st.forceKinds.clear();
    int emitted = 0;
    DabcSettings last;
    connect(&panel, &ThresholdPanel::settingsChanged, this, [&](const DabcSettings& s) {
        ++emitted;
        last = s;
    });
    panel.setSettings(st); // showing settings is not an edit
    QCOMPARE(emitted, 0);
    QCOMPARE(panel.kBox()->value(), 3.0);
    QVERIFY(!panel.globalBox()->isChecked());
    QVERIFY(ThresholdPanel::sameSettings(panel.settings(), st));
    panel.kBox()->setValue(0.5);
    QCOMPARE(emitted, 1);
    QCOMPARE(last.k, 0.5);
    QVERIFY(!last.useGlobal);
    QVERIFY(last.forceKinds.empty());
    panel.globalBox()->setChecked(true);
    QCOMPARE(emitted, 2);
    QVERIFY(last.useGlobal);
    QCOMPARE(last.k, 0.5);
}

void TestWidgets::thresholdChangeRecomputes()
{
    const Session s = makeSession();
    MainWindow w;
    w.setSession(s, QStringLiteral("test"));
    w.selectGroup(QStringLiteral("layers.0.attn_in"));
    QCOMPARE(w.thresholdPanel()->kBox()->value(), 2.0);
    const Session at2 = expectedMasks(s, 2.0);
    const Session at05 = expectedMasks(s, 0.5);
    QVERIFY(totalMasked(at05) > totalMasked(at2)); // the fixture must let k matter

    w.thresholdPanel()->kBox()->setValue(0.5); // as a person would
    QCOMPARE(w.dabcSettings().k, 0.5);
    QTRY_COMPARE(w.session()->plans.at("layers.0.attn_in").mask, at05.plans.at("layers.0.attn_in").mask);
    for (const std::string& g : s.groups) {
        const GroupPlan& p = w.session()->plans.at(g);
        QCOMPARE(p.mask, at05.plans.at(g).mask);
        QCOMPARE(p.tauLocal, at05.plans.at(g).tauLocal);
        QCOMPARE(p.alpha, s.plans.at(g).alpha); // MDQFO's result is not the threshold's
    }
    QVERIFY(totalMasked(*w.session()) > totalMasked(at2));
    const GroupPlan& p = w.session()->plans.at("layers.0.attn_in");
    QCOMPARE(w.maskView()->maskedBars()->dataCount(), ones(p.mask));
    QCOMPARE(w.maskView()->tauLocalLine()->point1->coords().y(), p.tauLocal);
    // The tree's masked column follows.
    const QModelIndex layer0 = w.sessionModel()->index(0, 0);
    QCOMPARE(w.sessionModel()->index(0, SessionModel::MaskedColumn, layer0).data().toInt(), ones(p.mask));
}

void TestWidgets::staleResultDropped()
{
    const Session s = makeSession();
    // The job alone: a result whose id is older than the newest request is dropped.
    {
        MaskJob job;
        int ready = 0;
        quint64 readyId = 0;
        connect(&job, &MaskJob::masksReady, this, [&](quint64 id, const PlanMap&) {
            ++ready;
            readyId = id;
        });
        DabcSettings a, b;
        a.k = 2.0;
        b.k = 0.5;
        const quint64 first = job.request(s, a);
        const quint64 second = job.request(s, b);
        QVERIFY(second > first);
        QVERIFY(!job.deliver(first, s.plans, {}));
        QCOMPARE(ready, 0);
        QTRY_COMPARE(ready, 1);
        QCOMPARE(readyId, second);
        job.waitForWorkers();
        QTest::qWait(20); // the first worker's own result, if it ran, is dropped too
        QCOMPARE(ready, 1);
    }
    // In the window: a stale result that arrives after the newest one never lands.
    MainWindow w;
    w.setSession(s, QStringLiteral("test"));
    w.selectGroup(QStringLiteral("layers.0.attn_in"));
    w.thresholdPanel()->kBox()->setValue(1.0);
    const quint64 stale = w.maskJob()->latestId();
    w.thresholdPanel()->kBox()->setValue(0.5);
    const Session at05 = expectedMasks(s, 0.5);
    QTRY_COMPARE(w.session()->plans.at("layers.0.attn_in").mask, at05.plans.at("layers.0.attn_in").mask);
    PlanMap allMasked = s.plans;
    for (auto& [g, p] : allMasked)
        std::fill(p.mask.begin(), p.mask.end(), uint8_t(1));
    QVERIFY(!w.maskJob()->deliver(stale, allMasked, {}));
    for (const std::string& g : s.groups)
        QCOMPARE(w.session()->plans.at(g).mask, at05.plans.at(g).mask);
    QCOMPARE(w.maskView()->maskedBars()->dataCount(), ones(at05.plans.at("layers.0.attn_in").mask));
}

void TestWidgets::undoRestoresThreshold()
{
    const Session s = makeSession();
    MainWindow w;
    w.setSession(s, QStringLiteral("test"));
    w.selectGroup(QStringLiteral("layers.0.attn_in"));
    const Session at1 = expectedMasks(s, 1.0);
    const Session at05 = expectedMasks(s, 0.5);
    w.thresholdPanel()->kBox()->setValue(1.0);
    QTRY_COMPARE(w.session()->plans.at("layers.0.attn_in").mask, at1.plans.at("layers.0.attn_in").mask);
    w.thresholdPanel()->kBox()->setValue(0.5);
    QTRY_COMPARE(w.session()->plans.at("layers.0.attn_in").mask, at05.plans.at("layers.0.attn_in").mask);
    QCOMPARE(w.undoStack()->count(), 2);

    w.undoStack()->undo();
    QCOMPARE(w.thresholdPanel()->kBox()->value(), 1.0);
    QCOMPARE(w.dabcSettings().k, 1.0);
    QTRY_COMPARE(w.session()->plans.at("layers.0.attn_in").mask, at1.plans.at("layers.0.attn_in").mask);
    for (const std::string& g : s.groups)
        QCOMPARE(w.session()->plans.at(g).mask, at1.plans.at(g).mask);
    QCOMPARE(w.maskView()->maskedBars()->dataCount(), ones(at1.plans.at("layers.0.attn_in").mask));

    w.undoStack()->redo();
    QCOMPARE(w.thresholdPanel()->kBox()->value(), 0.5);
    QTRY_COMPARE(w.session()->plans.at("layers.0.attn_in").mask, at05.plans.at("layers.0.attn_in").mask);
}

void TestWidgets::handEditSurvivesRecompute()
{
    const Session s = makeSession();
    MainWindow w;
    w.resize(1400, 900);
    w.setSession(s, QStringLiteral("test"));
    w.selectGroup(QStringLiteral("layers.0.attn_in"));
    const std::string g = "layers.0.attn_in";
    const uint8_t before = s.plans.at(g).mask[0];

    // A click on channel 0's column of the mask plot toggles it.
    QCustomPlot* plot = w.maskView()->plot();
    plot->resize(600, 400);
    plot->replot(QCustomPlot::rpImmediateRefresh);
    const QPoint at(int(plot->xAxis->coordToPixel(0.0)), plot->axisRect()->center().y());
    QCOMPARE(w.maskView()->channelAt(at), 0);
    QTest::mouseClick(plot, Qt::LeftButton, {}, at);
    QCOMPARE(w.session()->plans.at(g).mask[0], uint8_t(!before));
    QCOMPARE(w.session()->plans.at(g).handEdited[0], uint8_t(1));
    QCOMPARE(w.maskView()->handEditMarks()->dataCount(), 1);
    QCOMPARE(w.undoStack()->count(), 1);

    // Recomputes at any k keep it.
    for (double k : {0.0, 0.5, 10.0}) {
        w.thresholdPanel()->kBox()->setValue(k);
        Session expected = s;
        expected.plans.at(g).mask[0] = uint8_t(!before);
        expected.plans.at(g).handEdited.assign(expected.plans.at(g).mask.size(), 0);
        expected.plans.at(g).handEdited[0] = 1;
        expected = expectedMasks(expected, k);
        QTRY_COMPARE(w.session()->plans.at(g).mask, expected.plans.at(g).mask);
        QCOMPARE(w.session()->plans.at(g).mask[0], uint8_t(!before));
        QCOMPARE(w.maskView()->maskedBars()->dataCount(), ones(expected.plans.at(g).mask));
    }

    // Undo the three threshold edits, then the hand edit.
    for (int i = 0; i < 3; ++i)
        w.undoStack()->undo();
    QCOMPARE(w.dabcSettings().k, 2.0);
    w.maskJob()->waitForWorkers();
    QTest::qWait(20);
    w.undoStack()->undo();
    QCOMPARE(w.session()->plans.at(g).mask[0], before);
    QCOMPARE(w.session()->plans.at(g).handEdited[0], uint8_t(0));
    QCOMPARE(w.maskView()->handEditMarks()->dataCount(), 0);
}

// Results measured under one plan (layer errors, loss curves, the quantized perplexity) are
// marked out of date in every view once a mask edit changes the plan, and current again when
// the edit is undone; the full-precision perplexity never is (no plan changes it).
void TestWidgets::staleResultsMarkedEverywhere()
{
    Session s = makeSession();
    for (const ModuleInfo& m : s.modules) {
        ModuleError e;
        e.module = m.name;
        e.pooled = ErrorStat{100, 15.0, 0.99};
        e.perModality[0] = e.pooled;
        s.errors.push_back(e);
    }
    EvalResult fp, q;
    fp.label = "full precision";
    fp.data = q.data = "eval.jsonl";
    fp.ppl = 4.0;
    q.label = s.settings->label();
    q.ppl = 5.0;
    q.plan = planFingerprint(s);
    s.evals = {fp, q};
    s.resultsPlan = s.curvesPlan = planFingerprint(s);
    QCOMPARE(s.resultsPlan.size(), size_t(16));

    MainWindow w;
    w.resize(1400, 900);
    w.setSession(s, QStringLiteral("test"));
    w.selectGroup(QStringLiteral("layers.0.attn_in"));
    const QModelIndex layer0 = w.sessionModel()->index(0, 0);
    const QModelIndex sqnr = w.sessionModel()->index(0, SessionModel::SqnrColumn, layer0);
    auto grey = [&] { return sqnr.data(Qt::ForegroundRole).value<QColor>() == QColor(Qt::gray); };
    auto staleShown = [&] {
        return !w.layerErrorView()->staleLabel()->isHidden() && w.layerErrorView()->model()->isStale()
            && w.lossCurveView()->isOutOfDate() && w.lossCurveView()->caption().contains(QStringLiteral("Out of date"))
            && grey();
    };
    auto currentShown = [&] {
        return w.layerErrorView()->staleLabel()->isHidden() && !w.layerErrorView()->model()->isStale()
            && !w.lossCurveView()->isOutOfDate() && !w.lossCurveView()->caption().contains(QStringLiteral("Out of date"))
            && !grey();
    };
    QVERIFY(currentShown());
    QVERIFY(!w.thresholdPanel()->planStatus().contains(QStringLiteral("before the last edit")));

    w.toggleChannel(QStringLiteral("layers.0.attn_in"), 0);
    QVERIFY(staleShown());
    w.show();
    w.raiseView(QStringLiteral("errors"));
    maybeShoot(w, QStringLiteral("stale-errors"));
    w.raiseView(QStringLiteral("loss"));
    maybeShoot(w, QStringLiteral("stale-loss"));
    const QString banner = w.layerErrorView()->staleLabel()->text();
    QVERIFY2(banner.contains(QStringLiteral("layer errors")) && banner.contains(QStringLiteral("perplexity"))
                 && banner.contains(QStringLiteral("Quantize")),
             qPrintable(banner));
    QVERIFY(sqnr.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Out of date")));
    // Only the quantized model's perplexity is marked.
    QCOMPARE(w.layerErrorView()->perplexityLabel()->text().count(QStringLiteral("(out of date)")), 1);
    QVERIFY(w.thresholdPanel()->planStatus().contains(QStringLiteral("before the last edit")));

    w.undoStack()->undo(); // the plan the results were measured under again
    QVERIFY(currentShown());
    QCOMPARE(w.layerErrorView()->perplexityLabel()->text().count(QStringLiteral("(out of date)")), 0);
    QVERIFY(!w.thresholdPanel()->planStatus().contains(QStringLiteral("before the last edit")));

    // A threshold change recomputes the masks: out of date once they land.
    const Session at05 = expectedMasks(s, 0.5);
    QVERIFY(totalMasked(at05) != totalMasked(s));
    w.thresholdPanel()->kBox()->setValue(0.5);
    QTRY_VERIFY(staleShown());

    // Sessions written before fingerprints (none recorded) show their results as current.
    Session old = s;
    old.resultsPlan.clear();
    old.curvesPlan.clear();
    for (EvalResult& e : old.evals)
        e.plan.clear();
    MainWindow w2;
    w2.setSession(old, QStringLiteral("old"));
    w2.toggleChannel(QStringLiteral("layers.0.attn_in"), 0);
    QVERIFY(w2.layerErrorView()->staleLabel()->isHidden());
}

// A tuning edit (p, weight bits) marks the session modified, and the panel's settings are saved
// with it: reopened, the panel shows them, not the plan's.
void TestWidgets::tuningEditsTravelWithTheSession()
{
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const Session s = makeSession();
    const QString path = tmp.filePath(QStringLiteral("tuned.mqs"));
    {
        MainWindow w;
        w.setQuietErrors(true);
        w.setSession(s, QStringLiteral("test"));
        QVERIFY(!w.isModified());
        QuantSettings t = w.quantSettings();
        t.mdqfo.p = 3.0;
        t.weight.bits = 3;
        w.setQuantSettings(t);
        QVERIFY(w.isModified());
        QVERIFY(w.windowTitle().contains(QLatin1Char('*')));
        QVERIFY(w.saveSession(path, true));
        QVERIFY(!w.isModified());
    }
    const Session back = loadSession(path.toStdString());
    QVERIFY(back.tuning.has_value());
    QCOMPARE(back.tuning->mdqfo.p, 3.0);
    QCOMPARE(back.settings->mdqfo.p, s.settings->mdqfo.p); // the plan itself is unchanged
    MainWindow again;
    QVERIFY(again.openSession(path, true));
    QCOMPARE(again.quantSettings().mdqfo.p, 3.0);
    QCOMPARE(again.quantSettings().weight.bits, 3);
    QCOMPARE(again.thresholdPanel()->quantSettings().mdqfo.p, 3.0);
    QVERIFY(!again.isModified());
}

// The heatmap's score choice is the DABC form of the tuning panel: choosing "paper" there
// recomputes the masks with it (undoable), and the tree keeps its rows expanded.
void TestWidgets::oneScoreChoiceForEveryView()
{
    const Session s = makeSession();
    MainWindow w;
    w.setSession(s, QStringLiteral("test"));
    w.selectGroup(QStringLiteral("layers.0.attn_in"));
    QCOMPARE(w.quantSettings().dabc.form, DispersionForm::Code);
    auto* box = w.heatmapView()->findChild<QComboBox*>();
    QVERIFY(box);
    const int paper = box->findData(int(DispersionForm::Paper));
    QVERIFY(paper >= 0);
    const QModelIndex layer0 = w.moduleTree()->model()->index(0, 0);
    QVERIFY(w.moduleTree()->isExpanded(layer0));
    box->setCurrentIndex(paper); // as a person would
    QCOMPARE(w.quantSettings().dabc.form, DispersionForm::Paper);
    QCOMPARE(w.thresholdPanel()->quantSettings().dabc.form, DispersionForm::Paper);
    QCOMPARE(w.sessionModel()->dispersionForm(), DispersionForm::Paper);
    Session expected = s;
    DabcSettings d = s.settings->dabc;
    d.form = DispersionForm::Paper;
    computeMasks(expected, d);
    QTRY_COMPARE(w.session()->plans.at("layers.0.attn_in").scores, expected.plans.at("layers.0.attn_in").scores);
    QCOMPARE(w.session()->plans.at("layers.0.attn_in").mask, expected.plans.at("layers.0.attn_in").mask);
    QVERIFY(w.moduleTree()->isExpanded(w.moduleTree()->model()->index(0, 0)));
    w.undoStack()->undo();
    QCOMPARE(w.quantSettings().dabc.form, DispersionForm::Code);
    QTRY_COMPARE(w.heatmapView()->dispersionForm(), DispersionForm::Code); // once the masks land
    QTRY_COMPARE(w.session()->plans.at("layers.0.attn_in").scores, s.plans.at("layers.0.attn_in").scores);
}

// Without a session the window shows the welcome page (open the example, a session, a model,
// a recent session; the four steps), with every session action and Cancel Job disabled; a
// recent session opened from it replaces the page with the docks.
void TestWidgets::welcomePageUntilASessionOpens()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("MorphoQuantTest"));
    QSettings().clear();
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString path = tmp.filePath(QStringLiteral("recent.mqs"));
    saveSession(makeSession(), path.toStdString());
    QSettings().setValue(QStringLiteral("recentFiles"), QStringList{path, tmp.filePath(QStringLiteral("gone.mqs"))});

    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1280, 720);
    w.show();
    QVERIFY(!w.welcomePage()->isHidden());
    QVERIFY(!w.sessionActions().isEmpty());
    for (QAction* a : w.sessionActions())
        QVERIFY2(!a->isEnabled(), qPrintable(a->text()));
    QVERIFY(!w.cancelAction()->isEnabled());
    // The page covers what lies between the menu bar and the status bar.
    QTRY_VERIFY(w.welcomePage()->geometry().top() >= w.menuBar()->geometry().bottom());
    QVERIFY(w.welcomePage()->geometry().bottom() < w.statusBar()->geometry().top());
    QVERIFY(w.welcomePage()->width() == w.width());
    maybeShoot(w, QStringLiteral("welcome"));
    QListWidget* recent = w.welcomePage()->recentList();
    QCOMPARE(recent->count(), 2);
    QCOMPARE(recent->item(0)->data(Qt::UserRole).toString(), path);
    emit recent->itemActivated(recent->item(0)); // as a double click does
    QVERIFY(w.session() != nullptr);
    QCOMPARE(w.sessionPath(), path);
    QVERIFY(w.welcomePage()->isHidden());
    for (QAction* a : w.sessionActions())
        QVERIFY2(a->isEnabled(), qPrintable(a->text()));
    QVERIFY(!w.cancelAction()->isEnabled()); // no job runs
    QSettings().clear();
}

// Help > Guide: the glossary names the method's terms with their symbols, and the shortcut
// table is read from the menus (a shortcut added to a menu shows up without editing the guide).
void TestWidgets::guideListsTermsAndShortcuts()
{
    MainWindow w;
    GuideDialog* g = w.showGuide();
    QVERIFY(g && g->isVisible());
    const QString text = g->browser()->toPlainText();
    for (const QString& term : {QStringLiteral("DABC"), QStringLiteral("MDQFO"), QStringLiteral("\u03c4local"),
                                QStringLiteral("\u03bbcos"), QStringLiteral("SQNR"), QStringLiteral("Effective bits")})
        QVERIFY2(text.contains(term), qPrintable(term));
    // Symbols as sub- and superscripts, not "tau_local".
    const QString html = g->browser()->toHtml();
    QVERIFY(html.contains(QStringLiteral("vertical-align:sub")));
    QVERIFY(!text.contains(QStringLiteral("tau_local")));
    // Every menu shortcut, e.g. Quantize's and the guide's own.
    for (QAction* a : w.findChildren<QAction*>()) {
        if (a->shortcut().isEmpty() || a->menu() || a->text().isEmpty())
            continue;
        const QString keys = a->shortcut().toString(QKeySequence::NativeText);
        QVERIFY2(text.contains(keys), qPrintable(a->text() + QStringLiteral(": ") + keys));
    }
    QVERIFY(text.contains(QKeySequence(QKeySequence::HelpContents).toString(QKeySequence::NativeText)));
    QCOMPARE(w.showGuide(), g); // one dialog
    g->resize(760, 640);
    maybeShoot(*g, QStringLiteral("guide"));
}

// The layer x modality map of output error: each cell the lowest (or mean) SQNR of the layer's
// modules for tokens of that modality, the worst module behind it; a click selects that
// module's group and the modality in the heatmap; out of date after a mask edit.
void TestWidgets::sensitivityByLayerAndModality()
{
    Session s = makeSession();
    // SQNR (pooled, text, image) by module; image tokens reach layer 0 only.
    const double db[4][3] = {{20.0, 22.0, 9.0}, {15.0, 16.0, 12.0}, {30.0, 31.0, -1}, {25.0, 25.0, -1}};
    for (size_t i = 0; i < s.modules.size(); ++i) {
        ModuleError e;
        e.module = s.modules[i].name;
        e.pooled = ErrorStat{100, db[i][0], 0.99};
        e.perModality[0] = ErrorStat{80, db[i][1], 0.99};
        if (db[i][2] >= 0)
            e.perModality[1] = ErrorStat{20, db[i][2], 0.9};
        s.errors.push_back(e);
    }
    s.resultsPlan = planFingerprint(s);
    MainWindow w;
    w.resize(1400, 900);
    w.setSession(s, QStringLiteral("test"));
    SensitivityView* v = w.sensitivityView();
    QCOMPARE(v->layers(), (std::vector<int>{0, 1}));
    QCOMPARE(v->columns(), (std::vector<int>{-1, 0, 1})); // pooled, text, image
    // Layer 0 (q, k, down): pooled min(20, 15, 30) = 15 at k_proj; text 16; image min(9, 12) = 9 at q_proj.
    QCOMPARE(v->value(0, 0), 15.0);
    QCOMPARE(v->moduleAt(0, 0), QStringLiteral("model.layers.0.self_attn.k_proj"));
    QCOMPARE(v->value(0, 1), 16.0);
    QCOMPARE(v->value(0, 2), 9.0);
    QCOMPARE(v->groupAt(0, 2), QStringLiteral("layers.0.attn_in"));
    QCOMPARE(v->value(1, 0), 25.0);
    QVERIFY(std::isnan(v->value(1, 2))); // no image token measured at layer 1
    QVERIFY(v->groupAt(1, 2).isEmpty());
    v->setStatistic(SensitivityView::Mean);
    QCOMPARE(v->value(0, 0), (20.0 + 15.0 + 30.0) / 3.0);
    QCOMPARE(v->value(0, 2), (9.0 + 12.0) / 2.0);
    v->setStatistic(SensitivityView::Lowest);

    // A click on layer 0's image cell: that group everywhere, image tokens in the heatmap.
    w.selectGroup(QStringLiteral("layers.1.attn_in"));
    w.raiseView(QStringLiteral("sensitivity"));
    w.show();
    QCustomPlot* plot = v->plot();
    plot->replot(QCustomPlot::rpImmediateRefresh);
    const QPoint at(int(plot->xAxis->coordToPixel(2.0)), int(plot->yAxis->coordToPixel(0.0)));
    QCOMPARE(v->cellAt(at), (std::pair<int, int>{0, 2}));
    QTest::mouseClick(plot, Qt::LeftButton, {}, at);
    QCOMPARE(w.currentGroup(), QStringLiteral("layers.0.attn_in"));
    QCOMPARE(w.heatmapView()->modality(), 1);
    maybeShoot(w, QStringLiteral("sensitivity"));
    QVERIFY(!v->title().contains(QStringLiteral("Out of date")));
    w.toggleChannel(QStringLiteral("layers.0.attn_in"), 0);
    QVERIFY(v->title().contains(QStringLiteral("Out of date")));
    QVERIFY(MainWindow::viewNames().contains(QStringLiteral("sensitivity")));

    // Text only: one (pooled) column, and its cells are drawn (a one-column map once had an empty
    // extent and showed nothing but the figures).
    Session textOnly = s;
    for (ModuleError& e : textOnly.errors)
        e.perModality[1] = ErrorStat{};
    SensitivityView one;
    one.resize(500, 400);
    one.setSession(&textOnly);
    QCOMPARE(one.columns(), (std::vector<int>{-1}));
    QCOMPARE(one.value(0, 0), 15.0);
    one.plot()->replot(QCustomPlot::rpImmediateRefresh);
    const QImage img = one.plot()->toPixmap().toImage();
    const QPoint cell(int(one.plot()->xAxis->coordToPixel(0.3)), int(one.plot()->yAxis->coordToPixel(0.3)));
    QVERIFY2(QColor(img.pixel(cell)) != QColor(Qt::white), qPrintable(QColor(img.pixel(cell)).name()));
}

// Two recipes side by side: per-module SQNR of A and B and their difference (sortable table and
// bars), each plan's perplexity and cost, and the channels whose mask differs marked in the
// heatmap; another model is refused; a snapshot of the open plan is a B too.
void TestWidgets::compareTwoRecipes()
{
    Session a = makeSession();
    for (size_t i = 0; i < a.modules.size(); ++i) {
        ModuleError e;
        e.module = a.modules[i].name;
        e.pooled = ErrorStat{100, 10.0 + double(i), 0.99};
        a.errors.push_back(e);
    }
    EvalResult ea;
    ea.label = a.settings->label();
    ea.ppl = 6.5;
    a.evals = {ea};
    Session b = a;
    const double bDb[4] = {12.5, 10.0, 11.0, 13.0}; // deltas +2.5, -1, -1, 0
    for (size_t i = 0; i < b.errors.size(); ++i)
        b.errors[i].pooled.sqnrDb = bDb[i];
    b.evals[0].ppl = 5.25;
    b.plans.at("layers.0.down_in").mask[2] ^= 1;
    b.plans.at("layers.1.attn_in").mask[0] ^= 1;

    MainWindow w;
    w.setQuietErrors(true);
    w.resize(1400, 900);
    w.setSession(a, QStringLiteral("a"));
    CompareView* v = w.compareView();
    QVERIFY(!v->hasOther());
    QCOMPARE(w.heatmapView()->markedCount(), 0);
    QCOMPARE(v->setOther(b, QStringLiteral("b.mqs")), QString());
    QCOMPARE(int(v->rows().size()), 4);
    for (size_t i = 0; i < 4; ++i) {
        QCOMPARE(v->rows()[i].a, 10.0 + double(i));
        QCOMPARE(v->rows()[i].b, bDb[i]);
    }
    QCOMPARE(v->table()->rowCount(), 4);
    // Sorted by the difference: the worst change first, the best last.
    v->table()->sortItems(5, Qt::AscendingOrder);
    QCOMPARE(v->table()->item(3, 0)->text(), QStringLiteral("self_attn.q_proj")); // the tree's name, layer beside
    QCOMPARE(v->table()->item(3, 0)->toolTip(), QStringLiteral("model.layers.0.self_attn.q_proj"));
    QCOMPARE(v->table()->item(3, 1)->text(), QStringLiteral("0"));
    QCOMPARE(v->table()->item(3, 5)->text(), QStringLiteral("+2.50"));
    QCOMPARE(v->table()->item(0, 5)->text(), QStringLiteral("-1.00"));
    // Bars: B better (>= 0) for 2 modules, worse for 2.
    auto* better = qobject_cast<QCPBars*>(v->plot()->plottable(0));
    auto* worse = qobject_cast<QCPBars*>(v->plot()->plottable(1));
    QVERIFY(better && worse);
    QCOMPARE(better->dataCount(), 2);
    QCOMPARE(worse->dataCount(), 2);
    const QString header = v->header()->text();
    QVERIFY2(header.contains(QStringLiteral("6.5000")) && header.contains(QStringLiteral("5.2500"))
                 && header.contains(QStringLiteral("2 channel")),
             qPrintable(header));
    // The two channels whose mask differs, marked in the heatmap.
    const auto diffs = v->maskDifferences();
    QCOMPARE(diffs.size(), size_t(2));
    QCOMPARE(diffs.at("layers.0.down_in"), std::vector<int>{2});
    QCOMPARE(w.heatmapView()->markedCount(), 2);
    w.raiseView(QStringLiteral("compare"));
    w.show();
    maybeShoot(w, QStringLiteral("compare"));

    // Another model is refused and B stays.
    Session other = b;
    other.modules[0].name = "model.layers.0.attn.wq";
    const QString why = v->setOther(other, QStringLiteral("other.mqs"));
    QVERIFY2(why.contains(QStringLiteral("not the same model")), qPrintable(why));
    QVERIFY(v->hasOther());
    QCOMPARE(v->rows()[0].b, 12.5);

    // A snapshot of the open plan, then a mask edit: the edited channel is the difference.
    w.keepPlanForComparison();
    QCOMPARE(w.heatmapView()->markedCount(), 0);
    w.toggleChannel(QStringLiteral("layers.0.attn_in"), 1);
    QCOMPARE(v->maskDifferences().at("layers.0.attn_in"), std::vector<int>{1});
    QCOMPARE(w.heatmapView()->markedCount(), 1);

    // From a file.
    QTemporaryDir tmp;
    const QString path = tmp.filePath(QStringLiteral("b.mqs"));
    saveSession(b, path.toStdString());
    QVERIFY(w.compareWithSession(path, true));
    QCOMPARE(v->rows()[0].b, 12.5);
    QVERIFY(!w.compareWithSession(tmp.filePath(QStringLiteral("missing.mqs")), true));
}

QTEST_MAIN(TestWidgets)
void TestWidgets::tuningAndLayoutPersist()
{
    QStandardPaths::setTestModeEnabled(true); // a QSettings of its own, not the user's
    QCoreApplication::setOrganizationName(QStringLiteral("MorphoQuantTest"));
    QSettings().clear();
    QuantSettings tuned;
    {
        MainWindow w;
        w.setQuietErrors(true); // no "save changes?" question on close
        tuned = w.quantSettings();
        tuned.dabc.k = 3.25;
        tuned.mdqfo.p = 3.0;
        w.setQuantSettings(tuned);
        w.show();
        QVERIFY(w.close());
    }
    MainWindow again;
    QCOMPARE(again.quantSettings().dabc.k, 2.0); // defaults until restoreSettings
    again.restoreSettings();
    QCOMPARE(again.quantSettings().dabc.k, 3.25);
    QCOMPARE(again.quantSettings().mdqfo.p, 3.0);
    QCOMPARE(again.thresholdPanel()->quantSettings().dabc.k, 3.25);
    // A session's own plan wins over the stored tuning.
    Session s = makeSession();
    QVERIFY(s.settings);
    again.setSession(s);
    QCOMPARE(again.quantSettings().dabc.k, s.settings->dabc.k);
    // ... and so does the tuning saved with a session that has no plan yet.
    Session calibratedOnly = makeSession();
    calibratedOnly.settings.reset();
    QuantSettings saved = tuned;
    saved.dabc.k = 1.75;
    calibratedOnly.tuning = saved;
    MainWindow third;
    third.setSession(calibratedOnly);
    third.restoreSettings();
    QCOMPARE(third.quantSettings().dabc.k, 1.75);
    QSettings().setValue(QStringLiteral("tuning/settings"), QStringLiteral("{not json"));
    MainWindow broken;
    broken.restoreSettings(); // ignored, and forgotten
    QCOMPARE(broken.quantSettings().dabc.k, 2.0);
    QVERIFY(!QSettings().contains(QStringLiteral("tuning/settings")));
    QSettings().clear();
}

void TestWidgets::channelSelectedEverywhere()
{
    const Session s = makeSession();
    MainWindow w;
    w.resize(1400, 900);
    w.setSession(s, QStringLiteral("test"));
    w.selectGroup(QStringLiteral("layers.0.down_in"));
    // A click on a heatmap cell: its group and channel become current in every view.
    emit w.heatmapView()->channelClicked(QStringLiteral("layers.0.attn_in"), 2);
    QCOMPARE(w.currentGroup(), QStringLiteral("layers.0.attn_in"));
    QCOMPARE(w.heatmapView()->channel(), 2);
    QVERIFY(w.heatmapView()->channelOutline()->visible());
    QCOMPARE(w.heatmapView()->channelOutline()->topLeft->coords().x(), 1.5);
    QCOMPARE(w.maskView()->channel(), 2);
    QVERIFY(w.maskView()->channelLine()->visible());
    QCOMPARE(w.maskView()->channelLine()->point1->coords().x(), 2.0);
    const GroupPlan& p = s.plans.at("layers.0.attn_in");
    const std::vector<double> lines = w.outlierView()->alphaLines();
    QCOMPARE(int(lines.size()), 2); // alpha0 and alpha of that channel
    QCOMPARE(lines[0], double(p.alpha0[2]));
    // Another group: a channel index means nothing there, so the selection clears everywhere.
    w.selectGroup(QStringLiteral("layers.1.attn_in"));
    QCOMPARE(w.heatmapView()->channel(), -1);
    QVERIFY(!w.heatmapView()->channelOutline()->visible());
    QCOMPARE(w.maskView()->channel(), -1);
    QVERIFY(!w.maskView()->channelLine()->visible());
    QCOMPARE(int(w.outlierView()->alphaLines().size()), 3);
}

// The mode (simulated / deployable): offered for MorphoQuant with quantized activations and
// weights and without GPTQ (what --mode deployable accepts); it round-trips, an edit asks for a
// new quantization, and elsewhere the panel's settings say simulated.
void TestWidgets::tuningPanelOffersDeployableWhereItFolds()
{
    ThresholdPanel panel;
    QuantSettings st;
    st.method = "morphoquant";
    st.abits = 4;
    st.weight.format = WeightFormat::Int;
    st.weight.bits = 4;
    st.mode = "deployable";
    panel.setQuantSettings(st);
    QVERIFY(panel.modeBox()->isEnabled());
    QCOMPARE(panel.quantSettings().mode, std::string("deployable"));
    QVERIFY(ThresholdPanel::sameSettings(panel.quantSettings(), st));
    QuantSettings emitted;
    connect(&panel, &ThresholdPanel::quantSettingsChanged, this, [&](const QuantSettings& s) { emitted = s; });
    panel.modeBox()->setCurrentIndex(panel.modeBox()->findData(QStringLiteral("simulated")));
    QCOMPARE(emitted.mode, std::string("simulated"));
    QVERIFY(ThresholdPanel::effectOf(st, emitted).requantize);
    panel.modeBox()->setCurrentIndex(panel.modeBox()->findData(QStringLiteral("deployable")));
    QCOMPARE(emitted.mode, std::string("deployable"));
    // RTN (per-token activations deploy as they are): not offered, and simulated.
    panel.methodBox()->setCurrentIndex(panel.methodBox()->findData(QStringLiteral("rtn")));
    QVERIFY(!panel.modeBox()->isEnabled());
    QCOMPARE(emitted.mode, std::string("simulated"));
    // GPTQ with MorphoQuant: not offered either.
    panel.methodBox()->setCurrentIndex(panel.methodBox()->findData(QStringLiteral("morphoquant")));
    QCOMPARE(emitted.mode, std::string("deployable"));
    panel.gptqBox()->setChecked(true);
    QVERIFY(!panel.modeBox()->isEnabled());
    QCOMPARE(emitted.mode, std::string("simulated"));
}

// Quantizing the encoders: offered only where the calibration ran them; checked, it is in the
// settings (an edit asks for a new quantization), the recipe says so and deployable is off.
void TestWidgets::tuningPanelQuantizesEncodersWhereCalibrated()
{
    ThresholdPanel panel;
    QuantSettings st;
    st.method = "morphoquant";
    st.abits = 4;
    st.weight.format = WeightFormat::Int;
    st.mode = "deployable";
    panel.setQuantSettings(st);
    QVERIFY(!panel.encodersBox()->isEnabled()); // no manifest calibration with media
    panel.encodersBox()->setChecked(true);
    QVERIFY(!panel.quantSettings().quantizeEncoders);
    panel.setEncodersAvailable(true);
    QVERIFY(panel.encodersBox()->isEnabled());
    QVERIFY(panel.quantSettings().quantizeEncoders);
    QCOMPARE(panel.quantSettings().mode, std::string("simulated"));
    QVERIFY(!panel.modeBox()->isEnabled());
    QVERIFY2(panel.recipeLabel()->text().contains("encoders quantized"), qPrintable(panel.recipeLabel()->text()));
    QVERIFY(ThresholdPanel::effectOf(st, panel.quantSettings()).requantize);
    panel.encodersBox()->setChecked(false);
    QVERIFY(panel.modeBox()->isEnabled());
    QCOMPARE(panel.quantSettings().mode, std::string("deployable"));
    // A session's plan with quantized encoders shows the box checked.
    st.mode = "simulated";
    st.quantizeEncoders = true;
    panel.setQuantSettings(st);
    QVERIFY(panel.encodersBox()->isChecked());
    QVERIFY(ThresholdPanel::sameSettings(panel.quantSettings(), st));
}

void TestWidgets::tuningPanelCarriesGptqAndFormats()
{
    // The recipe controls round-trip through the panel, show the ordered passes, and an edit
    // asks for a new quantization; GPTQ is offered only for weights it can round.
    ThresholdPanel panel;
    QuantSettings st;
    st.method = "rtn";
    st.abits = 4;
    st.weight.format = WeightFormat::NVFP4;
    st.actFormat = ActFormat::HiF4;
    st.gptq.enabled = true;
    st.gptq.fpTarget = true;
    panel.setQuantSettings(st);
    const QuantSettings back = panel.quantSettings();
    QCOMPARE(int(back.weight.format), int(WeightFormat::NVFP4));
    QCOMPARE(int(back.actFormat), int(ActFormat::HiF4));
    QVERIFY(back.gptq.enabled && back.gptq.fpTarget);
    QVERIFY(ThresholdPanel::sameSettings(back, st));
    QVERIFY2(panel.recipeLabel()->text().contains(QStringLiteral("weights gptq nvfp4 (fp target)")),
             qPrintable(panel.recipeLabel()->text()));
    QVERIFY(panel.recipeLabel()->text().contains(QStringLiteral("activations per-token hif4")));
    QuantSettings emitted;
    int n = 0;
    connect(&panel, &ThresholdPanel::quantSettingsChanged, this, [&](const QuantSettings& s) {
        emitted = s;
        ++n;
    });
    panel.gptqBox()->setChecked(false);
    QCOMPARE(n, 1);
    QVERIFY(!emitted.gptq.enabled);
    QVERIFY(ThresholdPanel::effectOf(st, emitted).requantize);
    QVERIFY(!panel.gptqTargetBox()->isEnabled());
    panel.weightFormatBox()->setCurrentIndex(panel.weightFormatBox()->findData(int(WeightFormat::NF4)));
    QVERIFY(!panel.gptqBox()->isEnabled());
    // MorphoQuant keeps integer activations whatever the format box says.
    panel.methodBox()->setCurrentIndex(panel.methodBox()->findData(QStringLiteral("morphoquant")));
    QCOMPARE(int(panel.quantSettings().actFormat), int(ActFormat::Int));
    QVERIFY(!panel.actFormatBox()->isEnabled());
    QVERIFY(!panel.actSchemeBox()->isEnabled() && !panel.actGroupBox()->isEnabled());

    // RTN integer activations: per tensor (static or dynamic) or per group of a token's channels,
    // as the CLI's --ascheme and --agroup-size; a plan's derived per-token scheme equals the
    // panel's explicit one (no requantize asked for nothing).
    QuantSettings rtn;
    rtn.method = "rtn";
    rtn.abits = 8;
    rtn.weight.format = WeightFormat::Int;
    rtn.weight.bits = 8;
    panel.setQuantSettings(rtn);
    QVERIFY(panel.actSchemeBox()->isEnabled() && panel.actGroupBox()->isEnabled());
    QuantSettings planned = rtn;
    planned.act = ActScheme::PerTokenDynamic; // as preparePlan sets it
    QVERIFY(!ThresholdPanel::effectOf(planned, panel.quantSettings()).requantize);
    panel.actSchemeBox()->setCurrentIndex(panel.actSchemeBox()->findData(QStringLiteral("per-tensor-static")));
    QCOMPARE(int(emitted.act), int(ActScheme::PerTensorStatic));
    QVERIFY(ThresholdPanel::effectOf(planned, emitted).requantize);
    QVERIFY(!panel.actGroupBox()->isEnabled()); // groups are for per-token scales
    QVERIFY(panel.recipeLabel()->text().contains(QStringLiteral("activations per-tensor static int8")));
    panel.actSchemeBox()->setCurrentIndex(panel.actSchemeBox()->findData(QStringLiteral("per-token-dynamic")));
    panel.actGroupBox()->setValue(32);
    QCOMPARE(emitted.actGroupSize, 32);
    QVERIFY(emitted.act == ActScheme::None || emitted.act == ActScheme::PerTokenDynamic);
    QVERIFY(panel.recipeLabel()->text().contains(QStringLiteral("(groups of 32)")));
    QuantSettings perTensor = rtn;
    perTensor.act = ActScheme::PerTensorDynamic;
    panel.setQuantSettings(perTensor); // a session's per-tensor plan shows as such
    QCOMPARE(panel.actSchemeBox()->currentData().toString(), QStringLiteral("per-tensor-dynamic"));
    QCOMPARE(int(panel.quantSettings().act), int(ActScheme::PerTensorDynamic));
    // A block format has no integer scales to choose.
    panel.actBitsBox()->setCurrentIndex(panel.actBitsBox()->findData(4));
    panel.actFormatBox()->setCurrentIndex(panel.actFormatBox()->findData(int(ActFormat::NVFP4)));
    QVERIFY(!panel.actSchemeBox()->isEnabled());
    QCOMPARE(int(panel.quantSettings().act), int(ActScheme::None));
}

void TestWidgets::tuningPanelFitsNarrowDock()
{
    // The panel lives in a dock beside the module tree: at 400 px nothing may need more width
    // (its scroll area has no horizontal scroll bar, so wider content would be cut off).
    ThresholdPanel panel;
    auto* scroll = panel.findChild<QScrollArea*>();
    QVERIFY(scroll && scroll->widget());
    QString wide;
    for (QWidget* child : scroll->widget()->findChildren<QWidget*>())
        if (child->minimumSizeHint().width() > 250)
            wide += QStringLiteral("%1 '%2' %3 px; ")
                        .arg(QString::fromLatin1(child->metaObject()->className()),
                             child->objectName() + (qobject_cast<QComboBox*>(child) ? qobject_cast<QComboBox*>(child)->currentText() : QString()))
                        .arg(child->minimumSizeHint().width());
    QVERIFY2(scroll->widget()->minimumSizeHint().width() <= 400 - scroll->verticalScrollBar()->sizeHint().width(),
             qPrintable(QStringLiteral("inner %1 px; %2").arg(scroll->widget()->minimumSizeHint().width()).arg(wide)));
}

#include "tst_widgets.moc"
