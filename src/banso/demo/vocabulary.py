"""Words the demo generator builds Japanese companies, people and deals from."""

from __future__ import annotations

# (kanji/kana as written, katakana reading, romaji for domains and e-mail)
NAME_STEMS: tuple[tuple[str, str, str], ...] = (
    ("さくら", "サクラ", "sakura"),
    ("ひかり", "ヒカリ", "hikari"),
    ("青葉", "アオバ", "aoba"),
    ("東京", "トウキョウ", "tokyo"),
    ("大和", "ヤマト", "yamato"),
    ("富士", "フジ", "fuji"),
    ("みらい", "ミライ", "mirai"),
    ("北斗", "ホクト", "hokuto"),
    ("若葉", "ワカバ", "wakaba"),
    ("朝日", "アサヒ", "asahi"),
    ("日本", "ニホン", "nihon"),
    ("関西", "カンサイ", "kansai"),
    ("湘南", "ショウナン", "shonan"),
    ("みどり", "ミドリ", "midori"),
    ("つばさ", "ツバサ", "tsubasa"),
    ("葵", "アオイ", "aoi"),
    ("銀河", "ギンガ", "ginga"),
    ("瑞穂", "ミズホ", "mizuho"),
    ("暁", "アカツキ", "akatsuki"),
    ("千代田", "チヨダ", "chiyoda"),
    ("博多", "ハカタ", "hakata"),
    ("札幌", "サッポロ", "sapporo"),
    ("横浜", "ヨコハマ", "yokohama"),
    ("なごや", "ナゴヤ", "nagoya"),
    ("太陽", "タイヨウ", "taiyo"),
    ("はなまる", "ハナマル", "hanamaru"),
    ("いろは", "イロハ", "iroha"),
    ("ソラ", "ソラ", "sora"),
    ("リンク", "リンク", "link"),
    ("アルファ", "アルファ", "alpha"),
)
MIDDLES: tuple[tuple[str, str, str], ...] = (
    ("", "", ""),
    ("", "", ""),
    ("ネクスト", "ネクスト", "next"),
    ("グローバル", "グローバル", "global"),
    ("プラス", "プラス", "plus"),
    ("中央", "チュウオウ", "chuo"),
    ("第一", "ダイイチ", "daiichi"),
    ("ワン", "ワン", "one"),
    ("ライフ", "ライフ", "life"),
    ("クリエイト", "クリエイト", "create"),
)
# business type (業態) → name endings
INDUSTRIES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "フィットネス": (
        ("フィットネス", "フィットネス", "fitness"),
        ("スポーツクラブ", "スポーツクラブ", "sports"),
    ),
    "美容室": (("ヘアサロン", "ヘアサロン", "hair"), ("ビューティー", "ビューティー", "beauty")),
    "飲食": (("フーズ", "フーズ", "foods"), ("ダイニング", "ダイニング", "dining")),
    "小売": (("ストア", "ストア", "store"), ("商店", "ショウテン", "shoten")),
    "EC": (("コマース", "コマース", "commerce"), ("オンライン", "オンライン", "online")),
    "製造": (("工業", "コウギョウ", "kogyo"), ("製作所", "セイサクショ", "works")),
    "不動産": (("不動産", "フドウサン", "estate"), ("ハウジング", "ハウジング", "housing")),
    "医療クリニック": (
        ("クリニック", "クリニック", "clinic"),
        ("メディカル", "メディカル", "medical"),
    ),
    "学習塾": (("ゼミナール", "ゼミナール", "seminar"), ("学院", "ガクイン", "gakuin")),
    "IT": (
        ("システムズ", "システムズ", "systems"),
        ("ソリューションズ", "ソリューションズ", "solutions"),
    ),
}
TLDS = ("co.jp", "co.jp", "co.jp", "jp", "com", "net")
SOURCES = ("Web問い合わせ", "展示会", "紹介", "パートナー", "セミナー", "広告")
# How often each source brings a customer of a segment (same order as SOURCES): small
# companies find the product on the web and in ads, large ones at trade shows and via partners.
SOURCE_WEIGHTS = {
    "SMB": (40, 8, 15, 7, 10, 20),
    "Mid-Market": (25, 20, 15, 15, 15, 10),
    "Enterprise": (10, 30, 20, 25, 12, 3),
}
UPSELL_SOURCE = "既存顧客"
SIZES_BY_SEGMENT = {
    "SMB": ("1-9", "10-49"),
    "Mid-Market": ("50-99", "100-299"),
    "Enterprise": ("300-999", "1000+"),
}
TAGS = (
    "多店舗",
    "本部主導",
    "補助金活用",
    "乗り換え",
    "API連携",
    "要フォロー",
    "事例候補",
    "海外拠点",
)

FAMILY_NAMES: tuple[tuple[str, str, str], ...] = (
    ("佐藤", "サトウ", "sato"),
    ("鈴木", "スズキ", "suzuki"),
    ("高橋", "タカハシ", "takahashi"),
    ("田中", "タナカ", "tanaka"),
    ("伊藤", "イトウ", "ito"),
    ("渡辺", "ワタナベ", "watanabe"),
    ("山本", "ヤマモト", "yamamoto"),
    ("中村", "ナカムラ", "nakamura"),
    ("小林", "コバヤシ", "kobayashi"),
    ("加藤", "カトウ", "kato"),
    ("吉田", "ヨシダ", "yoshida"),
    ("山田", "ヤマダ", "yamada"),
    ("佐々木", "ササキ", "sasaki"),
    ("山口", "ヤマグチ", "yamaguchi"),
    ("松本", "マツモト", "matsumoto"),
    ("井上", "イノウエ", "inoue"),
    ("木村", "キムラ", "kimura"),
    ("林", "ハヤシ", "hayashi"),
    ("斎藤", "サイトウ", "saito"),
    ("清水", "シミズ", "shimizu"),
    ("髙橋", "タカハシ", "takahashi"),
    ("長谷川", "ハセガワ", "hasegawa"),
)
GIVEN_NAMES: tuple[tuple[str, str, str], ...] = (
    ("翔太", "ショウタ", "shota"),
    ("美咲", "ミサキ", "misaki"),
    ("大輔", "ダイスケ", "daisuke"),
    ("陽子", "ヨウコ", "yoko"),
    ("健一", "ケンイチ", "kenichi"),
    ("彩", "アヤ", "aya"),
    ("拓也", "タクヤ", "takuya"),
    ("恵", "メグミ", "megumi"),
    ("直樹", "ナオキ", "naoki"),
    ("由美", "ユミ", "yumi"),
    ("誠", "マコト", "makoto"),
    ("真由美", "マユミ", "mayumi"),
    ("亮", "リョウ", "ryo"),
    ("愛", "アイ", "ai"),
    ("浩二", "コウジ", "koji"),
    ("舞", "マイ", "mai"),
    ("蓮", "レン", "ren"),
    ("結衣", "ユイ", "yui"),
)
TITLES_BY_ROLE = {
    "decision_maker": ("代表取締役", "取締役", "事業部長", "院長", "オーナー"),
    "project_leader": (
        "DX推進室長",
        "営業企画部 課長",
        "店舗運営部 マネージャー",
        "情報システム部 部長",
    ),
    "project_office": ("管理部", "総務部", "経営企画室", "本部 事務局"),
    "power_user": ("店長", "エリアマネージャー", "チーフ", "主任"),
    "user": ("スタッフ", "受付", "営業担当", "トレーナー", "事務"),
}
CSMS: tuple[tuple[str, str], ...] = (
    ("小川 さやか", "ogawa"),
    ("森 健太", "mori"),
    ("石井 美穂", "ishii"),
    ("前田 隼人", "maeda"),
    ("藤田 千尋", "fujita"),
    ("岡本 亮介", "okamoto"),
)
PLANS = {"SMB": "ライト", "Mid-Market": "スタンダード", "Enterprise": "エンタープライズ"}
PROBLEMS = (
    "会員管理がExcelで属人化しており、退会理由が追えていない",
    "店舗ごとに料金体系が異なり、請求業務に毎月3日かかっている",
    "予約の電話対応に人手を取られ、スタッフが接客に集中できない",
    "紙の申込書からの転記ミスが多く、顧客から問い合わせが来る",
    "本部で各拠点の数字がリアルタイムに見えない",
    "既存システムの保守終了に伴い、乗り換え先を探している",
    "新規出店に合わせて業務フローを標準化したい",
)
STORIES = (
    "中期経営計画で『顧客体験のデジタル化』を掲げ、3年で拠点数を2倍にする計画",
    "創業者からの事業承継を機に、勘と経験に頼った運営から脱却したい",
    "人手不足が深刻で、1人あたりの生産性を上げないと出店計画が止まる",
    "競合の値下げ攻勢に対し、継続率を上げてLTVで勝負する方針",
    "IPO準備に向けて管理体制と数字の見える化が急務",
)
# Free text a salesperson writes next to the lost/archive reason (keys: the seeded taxonomy).
LOST_NOTES: dict[str, tuple[str, ...]] = {
    "price": (
        "月額が予算上限を超えた。初期費用の分割も検討したが不可",
        "店舗数課金だと全店展開時のコストが合わない",
        "他社の見積もりより月3万円高かった",
    ),
    "competitor": (
        "既存ベンダーの上位プランに決定。乗り換えコストを懸念",
        "業界特化の競合製品を採用。予約機能の細かさで負けた",
    ),
    "feature_gap": (
        "複数ブランドの一括管理機能が必須要件だった",
        "会計ソフトとの自動連携がないことがネック",
        "英語表示が必要な海外拠点がある",
    ),
    "no_budget": (
        "来期予算での再検討。10月に再アプローチ予定",
        "補助金の採択待ち。不採択のため見送り",
    ),
    "timing": (
        "繁忙期と重なるため導入は半年後以降",
        "基幹システムの入れ替えを優先するとのこと",
    ),
    "internal_decision": (
        "現場は前向きだったが役員会で見送り",
        "決裁者が交代し、検討がリセットされた",
    ),
    "no_response": ("2回目の提案後から返信なし", "資料送付後、電話もメールもつながらない"),
    "not_target": ("個人事業主で要件が合わない", "学生の研究目的の問い合わせ"),
    "duplicate": ("同一企業の別部署からの重複問い合わせ", "展示会とWebで同じ担当者から二重登録"),
}
EXPANSION_REASONS = ("利用拠点の追加", "ライセンス追加", "オプション機能の追加", "利用人数の増加")
CONTRACTION_REASONS = ("一部店舗の閉鎖", "利用人数の削減", "オプション機能の解約")
UPSELL_TITLES = ("追加拠点のご提案", "上位プランへの切り替え", "API連携オプションのご提案")
AREA_CODES = ("03", "03", "06", "045", "052", "092", "011", "075", "022", "082")
PURPOSES = (
    "紙とExcelの管理をやめ、全店舗の会員情報を一元化する",
    "解約率を下げるため、利用状況から離脱の兆候を早く掴む",
    "請求業務を自動化し、月次締めを2日短縮する",
    "本部と店舗で同じ数字を見て会議をする",
)
