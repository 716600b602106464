package web

import (
	"net/http"
	"strconv"
	"strings"
)

// The portal's languages: English and Chinese. A person's choice is, in
// order: ?lang= (which also sets the cookie), the lang cookie, the first
// of the two in Accept-Language, English.
const (
	langEn = "en"
	langZh = "zh"
	// langCookie remembers a choice made with ?lang=.
	langCookie = "lang"
	// langCookieAge: a year, so a person chooses once.
	langCookieAge = 365 * 24 * 3600
)

// chooseLang picks the page's language, setting the cookie when the
// request chose one with ?lang=.
func chooseLang(w http.ResponseWriter, r *http.Request) string {
	l := pickLang(r)
	if q := r.URL.Query().Get("lang"); q == l {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: langCookieAge, SameSite: http.SameSiteLaxMode})
	}
	return l
}

// pickLang is the request's language, by the rules above.
func pickLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == langEn || l == langZh {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == langEn || c.Value == langZh) {
		return c.Value
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// fromAcceptLanguage is the language of the two the header ranks higher
// (RFC 9110 weights; equal weights keep the header's order), English when
// it names neither.
func fromAcceptLanguage(h string) string {
	best, bestQ := langEn, -1.0
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if (primary == langEn || primary == langZh) && q > bestQ && q > 0 {
			best, bestQ = primary, q
		}
	}
	return best
}

// catalog is every word the pages show, by language. Each page's
// template reads it as .L.Key and is executed with missingkey=error, and
// TestCatalog holds the two languages to the same keys, so a missing
// word fails a test rather than showing nothing.
func catalog() map[string]map[string]string {
	en := map[string]string{
		"Portal":         "CityID",
		"Tagline":        "The identification registry of smart cities",
		"Search":         "Search",
		"SearchLabel":    "Identifier",
		"SearchHint":     "Any form: 1561301001.85.3/school-0042, urn:cityid:…, a DNS name, MA.156.130100…, a resolver URL",
		"SearchError":    "This identifier does not parse",
		"AtPosition":     "at character",
		"Network":        "Network",
		"ChainID":        "Chain",
		"Height":         "Height",
		"BlockTime":      "Last block",
		"Node":           "Node",
		"Validators":     "Validators",
		"Power":          "power",
		"Authority":      "Authority",
		"OfMembers":      "of",
		"MembersApprove": "members approve",
		"CatchingUp":     "catching up",
		"NoBlock":        "No block committed yet.",
		"Directory":      "Directory",
		"Countries":      "Countries",
		"Cities":         "Cities",
		"Children":       "Children",
		"Family":         "Parent and children",
		"NoChildren":     "Nothing registered under it yet.",
		"NoCities":       "No city has been issued a code yet.",
		"NextPage":       "Next page",
		"Shown":          "shown",
		"Count":          "Count",
		"Code":           "Code",
		"Name":           "Name",
		"Kind":           "Kind",
		"Status":         "Status",
		"Version":        "version",
		"Values":         "Values",
		"NoValues":       "No values.",
		"Type":           "Type",
		"Value":          "Value",
		"Admins":         "Admins",
		"History":        "History",
		"OlderVersions":  "Older versions are in the JSON history.",
		"Forms":          "Every form of the identifier",
		"Canonical":      "Canonical",
		"QR":             "QR code",
		"DownloadPNG":    "Download PNG",
		"DownloadSVG":    "Download SVG",
		"Parent":         "Parent",
		"AllChildren":    "All of them in the directory",
		"Registered":     "Registered",
		"Changed":        "Last changed",
		"Block":          "block",
		"Tx":             "transaction",
		"Verify":         "Verification",
		"VerifyNoScript": "Checking this answer's proof in the browser needs JavaScript; the record above is what this node answers.",
		"VerifyPending":  "Checking the proof…",
		"JSON":           "JSON",
		"NotFound":       "Not found",
		"NotRegistered":  "is not registered.",
		"NotRegHint":     "The identifier is well formed, but no record holds it on this ledger.",
		"BadID":          "Not an identifier",
		"Error":          "Error",
		"NoPage":         "There is no page at this address.",
		"Home":           "Home",
		"Size":           "size",
		"Bytes":          "bytes",
		"MediaType":      "media type",
		"SHA256":         "SHA-256",
		"Altitude":       "altitude",
		"ChangeCreated":  "registered",
		"ChangeStatus":   "status",
		"ChangeName":     "name",
		"ChangeAdded":    "added",
		"ChangeRemoved":  "removed",
		"ChangeChanged":  "changed",
		"ChangeAdmins":   "admins changed",
		"ChangeNothing":  "no change to values",
		"active":         "active",
		"deactivated":    "deactivated",
		"city":           "city",
		"sector":         "sector",
		"unit":           "unit",
		"object":         "object",
		"Country":        "Country",
		"Sector":         "Sector",
		"Unit":           "Unit",
		"LOCODE":         "UN/LOCODE",
		"Contact":        "Contact",
		"Endpoint":       "Endpoint",
		"LangName":       "English",
		"OtherLang":      "中文",
	}
	zh := map[string]string{
		"Portal":         "城市标识",
		"Tagline":        "智慧城市标识注册系统",
		"Search":         "查询",
		"SearchLabel":    "标识",
		"SearchHint":     "任何形式：1561301001.85.3/school-0042、urn:cityid:…、DNS 名称、MA.156.130100…、解析地址",
		"SearchError":    "无法解析此标识",
		"AtPosition":     "出错位置：第",
		"Network":        "网络",
		"ChainID":        "链",
		"Height":         "高度",
		"BlockTime":      "最新区块",
		"Node":           "节点",
		"Validators":     "验证者",
		"Power":          "权重",
		"Authority":      "管理机构",
		"OfMembers":      "/",
		"MembersApprove": "名成员批准",
		"CatchingUp":     "正在同步",
		"NoBlock":        "尚未提交任何区块。",
		"Directory":      "目录",
		"Countries":      "国家",
		"Cities":         "城市",
		"Children":       "下级",
		"Family":         "上级与下级",
		"NoChildren":     "其下尚无注册。",
		"NoCities":       "尚无城市获得代码。",
		"NextPage":       "下一页",
		"Shown":          "条",
		"Count":          "数量",
		"Code":           "代码",
		"Name":           "名称",
		"Kind":           "类别",
		"Status":         "状态",
		"Version":        "版本",
		"Values":         "值",
		"NoValues":       "没有值。",
		"Type":           "类型",
		"Value":          "值",
		"Admins":         "管理者",
		"History":        "历史",
		"OlderVersions":  "更早的版本见 JSON 历史。",
		"Forms":          "标识的各种形式",
		"Canonical":      "规范形式",
		"QR":             "二维码",
		"DownloadPNG":    "下载 PNG",
		"DownloadSVG":    "下载 SVG",
		"Parent":         "上级",
		"AllChildren":    "在目录中查看全部",
		"Registered":     "注册于",
		"Changed":        "最后修改",
		"Block":          "区块",
		"Tx":             "交易",
		"Verify":         "验证",
		"VerifyNoScript": "在浏览器中验证此应答的证明需要 JavaScript；上面的记录是本节点的应答。",
		"VerifyPending":  "正在验证证明…",
		"JSON":           "JSON",
		"NotFound":       "未找到",
		"NotRegistered":  "尚未注册。",
		"NotRegHint":     "此标识格式正确，但账本中没有它的记录。",
		"BadID":          "不是有效的标识",
		"Error":          "错误",
		"NoPage":         "此地址没有页面。",
		"Home":           "首页",
		"Size":           "大小",
		"Bytes":          "字节",
		"MediaType":      "媒体类型",
		"SHA256":         "SHA-256",
		"Altitude":       "海拔",
		"ChangeCreated":  "注册",
		"ChangeStatus":   "状态",
		"ChangeName":     "名称",
		"ChangeAdded":    "新增",
		"ChangeRemoved":  "删除",
		"ChangeChanged":  "修改",
		"ChangeAdmins":   "管理者变更",
		"ChangeNothing":  "值没有变化",
		"active":         "有效",
		"deactivated":    "已停用",
		"city":           "城市",
		"sector":         "行业",
		"unit":           "单位",
		"object":         "对象",
		"Country":        "国家",
		"Sector":         "行业",
		"Unit":           "单位",
		"LOCODE":         "联合国地名代码",
		"Contact":        "联系方式",
		"Endpoint":       "端点",
		"LangName":       "中文",
		"OtherLang":      "English",
	}
	return map[string]map[string]string{langEn: en, langZh: zh}
}
