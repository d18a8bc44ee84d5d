"""The console in a real browser (Chromium through chromedriver, or Firefox ESR through geckodriver with
E2E_BROWSER=firefox): an office's day from registration to the statistics and the year's lock, a
correction of the registration, a session that times out in the middle of a form, a concurrent change
between two sessions, registration by keyboard alone, and the pages at 200% zoom.

Usage: console.py BASE_URL ADMIN_TOKEN SCREENSHOT_DIR

The service must be running at BASE_URL with agencies PJ and PJ-XLT (topic `urban` at PJ); the script
adds its users through the API with ADMIN_TOKEN. Every page visited is checked for errors in the
browser console; a screenshot of each main page goes to SCREENSHOT_DIR. Exits non-zero on the first
failed check, naming it.
"""

import datetime
import json
import os
import sys
import time
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.firefox.options import Options as FirefoxOptions
from selenium.webdriver.firefox.service import Service as FirefoxService
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, ADMIN_TOKEN, SHOTS = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
FIREFOX = os.environ.get("E2E_BROWSER", "chromium") == "firefox"
PASSWORD = "Lantern-River-2026"
TODAY = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()
os.makedirs(SHOTS, exist_ok=True)


def api(method, path, body=None):
    request = urllib.request.Request(
        BASE + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        text = response.read().decode()
        return json.loads(text) if text else None


def user(role, agency, name):
    login = f"{role}-{uuid.uuid4().hex[:8]}"
    created = api("POST", "/api/v1/users", {"name": name, "login": login, "role": role, "agency": agency})
    api("PUT", f"/api/v1/users/{created['user']['id']}/password", {"password": PASSWORD})
    return login, created["user"]["id"]


def browser(zoom=False):
    """A headless browser asking for Chinese, 1280x900 (`zoom`: Firefox drawn at 200%)."""
    if FIREFOX:
        return firefox(zoom)
    options = Options()
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=zh-CN"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The office's browsers ask for Chinese (headless Chromium would otherwise ask for English).
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    return driver


def firefox(zoom):
    options = FirefoxOptions()
    # Headless Firefox sizes its window in CSS pixels: 200% zoom of a 1280-pixel screen is a
    # 640-pixel window drawn at two device pixels per CSS pixel.
    for flag in ["-headless", f"--width={640 if zoom else 1280}", "--height=900"]:
        options.add_argument(flag)
    options.set_preference("intl.accept_languages", "zh-CN, zh")
    if zoom:
        options.set_preference("layout.css.devPixelsPerPx", "2.0")
    # Console errors arrive over WebDriver BiDi (geckodriver has no log endpoint).
    options.enable_bidi = True
    options.binary_location = os.environ.get("FIREFOX_BIN", "/usr/bin/firefox-esr")
    driver = webdriver.Firefox(service=FirefoxService(os.environ.get("GECKODRIVER", "geckodriver")), options=options)
    driver.set_page_load_timeout(30)
    driver.errors = []
    driver.script.add_javascript_error_handler(lambda entry: driver.errors.append(str(entry)))
    driver.script.add_console_message_handler(
        lambda entry: getattr(entry, "level", "") == "error" and driver.errors.append(str(entry))
    )
    return driver


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print(f"ok: {what}")


def no_console_errors(driver, page, expected=None):
    """No error in the browser console since the last look (`expected`: the one status a page is meant
    to answer with, such as the 412 of a concurrent change)."""
    if FIREFOX:
        time.sleep(0.1)  # BiDi events arrive asynchronously.
        errors, driver.errors = list(driver.errors), []
    else:
        errors = [
            entry
            for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and not (expected and f"status of {expected} " in entry["message"])
        ]
    check(not errors, f"no console errors on {page}: {errors}")


def shot(driver, name):
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))


def visit(driver, path, name=None):
    driver.get(BASE + path)
    no_console_errors(driver, path)
    if name:
        shot(driver, name)


def sign_in(driver, login):
    visit(driver, "/", None)
    check(driver.find_element(By.CSS_SELECTOR, "input[type=password]").is_displayed(), "the sign-in page asks for a password")
    driver.find_element(By.ID, "name").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "header.top nav"))
    no_console_errors(driver, "/ after sign-in")


def act(driver, action, fields=None, reason=None):
    """Opens the action's form on the case page, fills it and confirms."""
    fill(driver, action, fields, reason).find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def fill(driver, action, fields=None, reason=None):
    """Opens the action's form on the case page and fills it; the form."""
    details = driver.find_element(By.ID, f"action-{action}")
    details.find_element(By.TAG_NAME, "summary").click()
    form = details.find_element(By.TAG_NAME, "form")
    for key, value in (fields or {}).items():
        element = form.find_element(By.NAME, f"f.{key}")
        if element.tag_name == "select":
            select = Select(element)
            match = [o for o in select.options if value in o.text or o.get_attribute("value") == value]
            select.select_by_value(match[0].get_attribute("value"))
        else:
            element.clear()
            element.send_keys(value)
    if reason:
        form.find_element(By.NAME, "reason").send_keys(reason)
    return form


def report_count(driver, code):
    visit(driver, f"/statistics?agency=PJ&subtree=1&year={TODAY.year}&format=y2021")
    row = driver.find_element(By.CSS_SELECTOR, f"tr[data-code='{code}']")
    return int(row.find_elements(By.TAG_NAME, "td")[-1].text)


def main():
    clerk, _ = user("clerk", "PJ-XLT", "李登记")
    handler, handler_id = user("handler", "PJ-XLT", "王承办")
    approver, _ = user("approver", "PJ-XLT", "赵负责")
    statistician, _ = user("statistician", "PJ", "钱统计")

    # The statistician's count before.
    stats = browser()
    sign_in(stats, statistician)
    before = report_count(stats, "partly_disclosed")

    # A clerk registers a letter.
    b = browser()
    sign_in(b, clerk)
    shot(b, "queue-clerk")
    visit(b, "/cases/new")
    Select(b.find_element(By.ID, "agency")).select_by_value("PJ-XLT")
    Select(b.find_element(By.ID, "channel")).select_by_value("letter")
    arrived = b.find_element(By.ID, "arrived_at")
    # Midnight in Beijing: a later hour of TODAY is still in the future in the first hours of the day.
    b.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))", arrived, f"{TODAY}T00:00")
    WebDriverWait(b, 10).until(lambda d: "答复期限" in d.find_element(By.ID, "preview").text)
    check(str(TODAY) in b.find_element(By.ID, "preview").text, "the receipt date is shown before submitting")
    b.find_element(By.ID, "applicant.name").send_keys("张三")
    b.find_element(By.ID, "applicant.phone").send_keys("15704271234")
    b.find_element(By.ID, "description").send_keys("<script>alert('x')</script>2025年城区道路改造工程的招标文件")
    shot(b, "register")
    b.find_element(By.ID, "register-submit").click()
    WebDriverWait(b, 10).until(lambda d: "/cases/" in d.current_url and "/new" not in d.current_url)
    no_console_errors(b, "the new case")
    check("<script>alert('x')</script>" in b.find_element(By.ID, "description").text, "user text shows as text")
    case_path = b.current_url.replace(BASE, "").split("?")[0]
    case_id = case_path.rsplit("/", 1)[1]
    number = b.find_element(By.TAG_NAME, "h1").text.split()[0]
    check(number.startswith("PJ-XLT-"), f"registered as {number}")

    # The office head assigns it to the handler.
    head = browser()
    sign_in(head, approver)
    visit(head, case_path)
    act(head, "assign", {"handler_id": handler_id})
    WebDriverWait(head, 10).until(lambda d: "done=1" in d.current_url)
    # The applicant calls with a new phone number: the registration is corrected, the rest kept.
    act(head, "amend_registration", {"applicant.phone": "13904270000"}, reason="申请人来电更正联系电话")
    # The URL already ends in done=1 (the assignment's redirect): wait for the new page itself.
    WebDriverWait(head, 10).until(lambda d: "13904270000" in d.find_element(By.ID, "main").text)
    check("13904270000" in head.find_element(By.ID, "main").text, "the corrected phone shows")
    check("张三" in head.find_element(By.ID, "main").text, "the applicant's name is kept")

    # Two sessions of the handler open the case; the first drafts a partial disclosure, the second's
    # form is now stale and gets the "someone changed this case" page.
    h1, h2 = browser(), browser()
    sign_in(h1, handler)
    shot(h1, "queue-handler")
    check(number in h1.find_element(By.ID, "main").text, "the handler's queue lists the case")
    sign_in(h2, handler)
    visit(h1, case_path, "case-page")
    visit(h2, case_path)
    act(h1, "draft_reply", {"outcome": "部分公开"}, reason="涉及第三方信息，区分处理")
    WebDriverWait(h1, 10).until(lambda d: "done=1" in d.current_url)
    act(h2, "draft_reply", {"outcome": "予以公开"})
    WebDriverWait(h2, 10).until(lambda d: d.find_elements(By.ID, "notice"))
    check("有人刚刚修改了这个案件" in h2.find_element(By.ID, "notice").text, "a concurrent change is reported, not overwritten")
    no_console_errors(h2, "the conflict page", expected=412)
    shot(h2, "conflict")
    check("部分公开" in h2.find_element(By.ID, "draft-outcome").text, "the first draft stands")

    # The office head approves; the handler serves it by post.
    visit(head, "/")
    check(number in head.find_element(By.ID, "main").text, "the approver's queue lists the draft")
    shot(head, "queue-approver")
    visit(head, case_path)
    # The office head's session times out while the approval form is open: signing in again brings
    # the form back as it was, to confirm.
    form = fill(head, "approve_reply", reason="同意部分公开")
    head.delete_cookie("foi_session")
    head.add_cookie({"name": "foi_session", "value": "an-ended-session", "path": "/"})
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(head, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "input[type=password]"))
    no_console_errors(head, "the sign-in after the session ended", expected=401)
    check("登录已过期" in head.find_element(By.ID, "main").text, "the sign-in page says the session ended")
    head.find_element(By.ID, "name").send_keys(approver)
    head.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    WebDriverWait(head, 10).until(lambda d: d.find_elements(By.ID, "notice"))
    check("已恢复" in head.find_element(By.ID, "notice").text, "the form comes back after signing in")
    again = head.find_element(By.ID, "action-approve_reply")
    check(again.get_attribute("open") is not None, "the approval form is open")
    check(again.find_element(By.NAME, "reason").get_attribute("value") == "同意部分公开", "with the comment typed")
    again.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(head, 10).until(lambda d: "done=1" in d.current_url)
    visit(h1, case_path)
    # The date field is today by default (the posting date).
    act(h1, "serve", {"method": "post"})
    WebDriverWait(h1, 10).until(lambda d: "done=1" in d.current_url)
    check("已答复" in h1.find_element(By.TAG_NAME, "h1").text, "the reply is served")
    shot(h1, "case-replied")

    # The reply letter, generated from the case page, and the postal receipt attached as the evidence
    # of the service; then the letter's print view.
    details = h1.find_element(By.ID, "generate-document")
    details.find_element(By.TAG_NAME, "summary").click()
    form = details.find_element(By.TAG_NAME, "form")
    Select(form.find_element(By.NAME, "kind")).select_by_value("reply")
    form.find_element(By.NAME, "p.content").send_keys("提供招标公告复印件3页；投标报价部分涉及第三方商业秘密，不予公开。")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # The URL already ends in done=1 (the service's redirect): wait for the new page's contents.
    WebDriverWait(h1, 10).until(lambda d: d.find_elements(By.ID, "documents"))
    no_console_errors(h1, "the letter generated")
    check("政府信息公开申请答复书" in h1.find_element(By.ID, "documents").text, "the reply letter is listed")
    receipt = os.path.abspath(os.path.join(SHOTS, "postal-receipt.pdf"))
    with open(receipt, "wb") as f:
        f.write(b"%PDF-1.4\n% postal receipt scan\n")
    details = h1.find_element(By.ID, "upload-attachment")
    details.find_element(By.TAG_NAME, "summary").click()
    form = details.find_element(By.TAG_NAME, "form")
    Select(form.find_element(By.NAME, "kind")).select_by_value("postal_receipt")
    Select(form.find_element(By.NAME, "evidence_for")).select_by_value("service")
    form.find_element(By.NAME, "file").send_keys(receipt)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(h1, 10).until(lambda d: d.find_elements(By.ID, "attachments"))
    no_console_errors(h1, "the paper attached")
    os.remove(receipt)
    check("邮寄凭证" in h1.find_element(By.ID, "attachments").text, "the postal receipt is listed")
    h1.execute_script("document.getElementById('papers').scrollIntoView()")
    h1.save_screenshot(os.path.join(SHOTS, "case-papers.png"))
    visit(h1, h1.find_element(By.PARTIAL_LINK_TEXT, "打印").get_attribute("href").replace(BASE, ""))
    check(h1.find_element(By.CSS_SELECTOR, ".letter-title").text == "政府信息公开申请答复书", "the print view shows the letter")
    shot(h1, "letter-print")

    # The statistician sees the count move and downloads the spreadsheet.
    after = report_count(stats, "partly_disclosed")
    check(after == before + 1, f"the 2021 table's 部分公开 row moved from {before} to {after}")
    check(all("check-ok" in li.get_attribute("class") for li in stats.find_elements(By.CSS_SELECTOR, "ul.checks li")), "every cross-check holds")
    shot(stats, "statistics")
    link = stats.find_element(By.PARTIAL_LINK_TEXT, "Excel").get_attribute("href")
    cookie = stats.get_cookie("foi_session")["value"]
    request = urllib.request.Request(link, headers={"Cookie": f"foi_session={cookie}"})
    with urllib.request.urlopen(request) as response:
        body = response.read()
        check(response.headers["Content-Type"].startswith("application/vnd.openxmlformats") and body[:2] == b"PK", "the XLSX downloads")
    # Last year's report is published: the statistician locks it.
    visit(stats, f"/statistics?agency=PJ&subtree=1&year={TODAY.year - 1}&format=y2021")
    check(stats.find_elements(By.CSS_SELECTOR, "th[colspan='5']"), "the 2021 table's two-level header")
    stats.find_element(By.ID, "lock-year").click()
    WebDriverWait(stats, 10).until(lambda d: d.find_elements(By.ID, "lock-info"))
    check("钱统计" in stats.find_element(By.ID, "lock-info").text, "the year is locked in the statistician's name")
    shot(stats, "statistics-locked")
    visit(stats, f"/search?q={number}")
    visit(stats, "/search?q=%E9%81%93%E8%B7%AF", "search")

    # Registration by keyboard alone: Tab to each field, type, Enter to submit.
    k = browser()
    sign_in(k, clerk)
    visit(k, "/cases/new")
    k.find_element(By.TAG_NAME, "body").click()
    typed = {
        "applicant.name": "键盘用户",
        "applicant.phone": "13900001111",
        "description": "仅用键盘登记的申请",
    }
    seen = set()
    for _ in range(60):
        ActionTab(k)
        active = k.switch_to.active_element
        field = active.get_attribute("id")
        if field in typed and field not in seen:
            active.send_keys(typed[field])
            seen.add(field)
        if active.get_attribute("id") == "register-submit":
            break
    check(seen == set(typed), f"every field is reachable by Tab: {sorted(seen)}")
    k.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(k, 10).until(lambda d: "done=1" in d.current_url)
    check("仅用键盘登记的申请" in k.find_element(By.ID, "description").text, "registered by keyboard alone")

    # An administrator's pages: users and the year's calendar.
    admin_login, _ = user("admin", "PJ", "孙管理")
    a = browser()
    sign_in(a, admin_login)
    visit(a, "/admin/users", "admin-users")
    visit(a, f"/admin/calendar?year={TODAY.year}", "admin-calendar")
    check("国庆节" in a.page_source, "the calendar names the holidays")

    # At 200% zoom (a 640-pixel-wide window drawn at twice the scale) the page reflows: nothing but a
    # wide table's own box scrolls sideways.
    if FIREFOX:
        zoomed = browser(zoom=True)
        sign_in(zoomed, handler)
    else:
        zoomed = h1
        h1.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 640, "height": 900, "deviceScaleFactor": 2, "mobile": False})
    width, ratio = zoomed.execute_script("return [window.innerWidth, window.devicePixelRatio]")
    check(width <= 660 and ratio == 2, f"the window is 640 CSS pixels wide at twice the scale ({width} px, x{ratio})")
    for path, name in [("/", "zoom-queue"), (case_path, "zoom-case")]:
        visit(zoomed, path, name)
        overflow = zoomed.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 1, f"{path} fits a 640-pixel window without scrolling sideways ({overflow} px over)")
    if zoomed is not h1:
        zoomed.quit()

    for driver in [stats, b, head, h1, h2, k, a]:
        no_console_errors(driver, "the last page")
        driver.quit()
    print("console end-to-end: all checks passed")


def ActionTab(driver):
    webdriver.ActionChains(driver).send_keys(Keys.TAB).perform()
    time.sleep(0.02)


if __name__ == "__main__":
    main()
