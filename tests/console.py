#!/usr/bin/env python3
"""Drives the administrator's console at /admin in headless Chromium.

Called by tests/console.rs with the daemon's HTTPS base URL, the LDAP URL
and an output folder for screenshots; passwords come in the environment.
Every check raises on failure; the script exits non-zero then. Any secret
the pages showed (a bearer token) is printed as a `SECRET:` line so that the
Rust side can check the daemon's log for it.
"""

import os
import subprocess
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, LDAP, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
ADMIN_PW = os.environ["ADMIN_PASSWORD"]
MGR_PW = os.environ["MGR_PASSWORD"]
READER_PW = os.environ["READER_PASSWORD"]
NEW_PW = os.environ["NEW_PASSWORD"]
SUB_PW = os.environ["SUB_PASSWORD"]
TRAVELLER_PW = os.environ["TRAVELLER_PASSWORD"]

os.makedirs(OUT, exist_ok=True)
profile = tempfile.mkdtemp(prefix="console-chromium-")
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--ignore-certificate-errors",
    "--window-size=1200,1000",
    f"--user-data-dir={profile}",
]:
    options.add_argument(arg)
service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
driver = webdriver.Chrome(service=service, options=options)
driver.implicitly_wait(2)
shots = []


def check(cond, what):
    if not cond:
        raise AssertionError(f"{what}\n--- page {driver.current_url} ---\n{text()}")
    print(f"ok: {what}")


def text():
    return driver.find_element(By.TAG_NAME, "body").text


def shot(name):
    # The whole page, not just the window.
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1200, max(700, min(height + 40, 4000)))
    path = os.path.join(OUT, f"console-{name}.png")
    driver.save_screenshot(path)
    driver.set_window_size(1200, 1000)
    shots.append(path)


def field(label):
    """The control a label names, exactly as the manual words it."""
    for l in driver.find_elements(By.TAG_NAME, "label"):
        if l.text.strip() == label:
            return driver.find_element(By.ID, l.get_attribute("for"))
    raise AssertionError(f"no field labelled {label!r} on {driver.current_url}")


def fill(label, value):
    el = field(label)
    el.clear()
    el.send_keys(value)


def choose(label, visible):
    Select(field(label)).select_by_visible_text(visible)


def options(label):
    return [o.text for o in Select(field(label)).options]


def press(label):
    """Presses a button and waits for the page it leads to."""
    for b in driver.find_elements(By.TAG_NAME, "button"):
        if b.text.strip() == label:
            mark()
            b.click()
            wait_for_new_page()
            return
    raise AssertionError(f"no button {label!r} on {driver.current_url}")


def mark():
    driver.execute_script("document.documentElement.dataset.old = '1'")


def wait_for_new_page():
    """Until the marked page is gone and the next one has loaded."""

    def loaded(d):
        try:
            return d.execute_script(
                "return document.readyState === 'complete' && !document.documentElement.dataset.old"
            )
        except Exception:
            return False

    WebDriverWait(driver, 20).until(loaded)


def follow(link):
    mark()
    driver.find_element(By.LINK_TEXT, link).click()
    wait_for_new_page()


def sign_in(user, password):
    driver.get(BASE + "/admin")
    fill("User Name", user)
    fill("Password", password)
    press("Sign in")
    check(driver.current_url.endswith("/admin"), f"{user} signed in to the console")


def sign_out():
    press("Sign out")
    check("You are signed out." in text(), "signed out")


def binds(user, password):
    run = subprocess.run(
        ["ldapwhoami", "-x", "-H", LDAP, "-D", user, "-w", password],
        capture_output=True,
        text=True,
    )
    ok = run.returncode == 0 and f"uid={user}," in run.stdout
    if not ok:
        print(f"ldapwhoami {user}: {run.returncode} {run.stdout.strip()} {run.stderr.strip()}")
    return ok


def main_text():
    return driver.find_element(By.TAG_NAME, "main").text


# --- the super admin ---------------------------------------------------------
driver.get(BASE + "/admin")
check("Sign in" in text(), "the console asks to sign in")
shot("sign-in")
fill("User Name", "admin")
fill("Password", "Wrong7Secret")
press("Sign in")
check("wrong" in text(), "a wrong password is refused in words")
# Signing in with the keyboard alone: type, Tab, type, Enter.
field("User Name").clear()
field("User Name").send_keys("admin", Keys.TAB)
focused = driver.switch_to.active_element.get_attribute("id")
check(focused == "password", f"Tab moves from the user name to the password ({focused})")
mark()
driver.switch_to.active_element.send_keys(ADMIN_PW, Keys.ENTER)
wait_for_new_page()
check(driver.current_url.endswith("/admin"), "admin signed in with the keyboard")
driver.get(BASE + "/")
check(driver.current_url.endswith("/admin"), "/ leads a signed-in browser to the console")
check("User Accounts" in text(), "the User Accounts page")
headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "thead th")]
check(
    headers
    == ["User Name", "Name", "Account Type", "Authentication Method", "Restricted To", "Manager", "Status"],
    f"the list's columns: {headers}",
)
csp = driver.execute_script("return document.querySelectorAll('script').length")
check(csp == 0, "no script on the page")
shot("user-accounts")
# On a phone: nothing wider than the screen but the table, which scrolls.
driver.set_window_size(390, 844)
wide = driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
check(not wide, "the page fits a phone's width")
driver.save_screenshot(os.path.join(OUT, "console-user-accounts-phone.png"))
driver.set_window_size(1200, 1000)

# The manual's flow: Server Settings > User Accounts > Add.
follow("Add")
check("Add a User Account" in text(), "the Add form")
for label in [
    "User Name", "Password", "Repeat Password", "First Name", "Last Name", "Email Address",
    "Mobile Phone", "Authentication Method", "Time Zone", "Account Type", "Restrict Access To",
]:
    field(label)
print("ok: every label of the manual is on the form")
check(
    options("Authentication Method")
    == ["Password", "Two Factor Email", "Two Factor Email Everytime", "Two Factor SMS",
        "Two Factor SMS Everytime", "Two Factor App"],
    "the manual's authentication methods, and the app",
)
check(
    options("Account Type") == ["Administrator", "Remote Assistance Technician", "Report Reader"],
    "the manual's account types",
)
check("(none)" in options("Restrict Access To"), "an unrestricted admin may choose no restriction")
check("Sales (Group)" in options("Restrict Access To"), "groups are offered")
fill("User Name", "jyoung")
fill("Password", "weakpass")
fill("Repeat Password", "weakpass")
fill("First Name", "Jo")
fill("Last Name", "Young")
fill("Email Address", "jo.young@example.com")
fill("Time Zone", "Europe/London")
choose("Account Type", "Administrator")
choose("Restrict Access To", "Sales (Group)")
shot("add")
press("Add Account")
err = driver.find_element(By.ID, "password-error").text
check("must contain an upper-case letter" in err, f"a weak password names the rules it breaks: {err}")
check("must contain a digit" in err, "the digit rule too")
check(field("User Name").get_attribute("value") == "jyoung", "the form keeps the user name")
check(field("First Name").get_attribute("value") == "Jo", "the form keeps the first name")
check(field("Password").get_attribute("value") == "", "the form forgets the password")
check(
    Select(field("Restrict Access To")).first_selected_option.text == "Sales (Group)",
    "the form keeps the restriction",
)
shot("add-refused")
fill("Password", NEW_PW)
fill("Repeat Password", NEW_PW)
press("Add Account")
check("The account was added." in text(), "Add Account adds the account")
check("jo.young@example.com" in text(), "the entry shows the email")
shot("entry")
check(binds("jyoung", NEW_PW), "the new account binds over LDAP")

# Inactive: the account cannot bind.
choose("Status", "Inactive")
press("Save")
check("Saved." in text(), "Save")
check(not binds("jyoung", NEW_PW), "an Inactive account cannot bind")
choose("Status", "Active")
press("Save")
check(binds("jyoung", NEW_PW), "Active again, it binds")

# Search.
driver.get(BASE + "/admin/accounts?q=young")
rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr")
check(len(rows) == 1 and "jyoung" in rows[0].text, "a search by name finds the account")
driver.get(BASE + "/admin/accounts?status=inactive")
check("jyoung" not in main_text(), "a search by status leaves out active accounts")

# Groups, tokens, the audit log and the outbox.
follow("Groups")
fill("Name", "Support")
choose("Inside", "Acme (Business Entity)")
press("Create")
check("Support" in text() and "Members" in text(), "a group is created")
fill("Add the member (user name)", "jyoung")
press("Add member")
check("jyoung is a member now." in text(), "a member is added")
fill("New name", "Helpdesk")
press("Rename")
check("Renamed to Helpdesk." in text(), "a group is renamed")
follow("Groups")
shot("groups")
follow("Tokens")
press("Issue a token")
token = driver.find_element(By.ID, "new-token").text
print(f"SECRET:{token}")
check(token.startswith("dgt_"), "a token is shown once")
shot("tokens")
follow("Tokens")
check(token not in text(), "the token is not shown again")
press("Revoke")
check("The token is revoked." in text(), "a token is revoked")
follow("Audit log")
check("account.create" in text() and "jyoung" in text(), "the audit log shows the creation")
check("Times are in UTC" in text(), "times in the admin's time zone")
shot("audit")
follow("Outbox")
check("Outbox" in text(), "the outbox")
shot("outbox")

# Move and delete in the tree.
follow("Groups")
fill("Name", "Temp")
press("Create")
choose("Inside", "Sales (Group)")
press("Move")
check("Moved." in text() and "Sales" in main_text(), "a group is moved")
press("Delete")
check("Deleted." in text() and "Temp" not in main_text(), "a group is deleted")

# A recognised computer, revoked: the next bind is asked for a code.
driver.get(BASE + "/admin/accounts/traveller")
check("address:127.0.0.1" in text(), "the entry lists the recognised computer")
check(binds("traveller", TRAVELLER_PW), "the recognised computer binds without a code")
press("Revoke")
check("1 computer forgotten" in text(), "the computer is revoked")
check(not binds("traveller", TRAVELLER_PW), "a revoked computer is asked for a code again")

# The authenticator app, then a reset link: the account cannot bind.
driver.get(BASE + "/admin/accounts/jyoung")
press("Reset the authenticator app")
check("The authenticator app was reset" in text(), "the authenticator app is reset")
press("Send a password-reset link")
check("A reset link was sent" in text(), "a reset link is sent")
check("reset pending" in text(), "the entry shows the pending reset")
check(not binds("jyoung", NEW_PW), "after the reset link the account cannot bind")
driver.get(BASE + "/admin/outbox")
check("Set a new password" in text() or "********" in text(), "the outbox shows the link, masked")
check("jo.young@example.com" in text(), "the outbox names the recipient")
sign_out()

# --- a restricted manager -----------------------------------------------------
sign_in("mgr", MGR_PW)
listed = main_text()
check("sub" in listed, "the manager sees its sub-user")
check("hidden" not in listed, "the manager does not see an account outside its scope")
driver.get(BASE + "/admin/accounts/hidden")
hidden = main_text()
driver.get(BASE + "/admin/accounts/nosuchaccount")
missing = main_text()
check(hidden == missing and "no such account" in hidden, "a hidden account's entry answers like a missing one")
driver.get(BASE + "/admin/accounts/new")
restrict = options("Restrict Access To")
check(restrict == ["EMEA (Group)", "Sales (Group)"], f"the manager may choose only its scope: {restrict}")
roles = [l.text for l in driver.find_elements(By.CSS_SELECTOR, "#roles label")]
check(roles == ["user-management"], f"only the roles it holds: {roles}")
check("Admin Level" not in text(), "no admin level for a manager")
shot("add-restricted")
fill("User Name", "sub2")
fill("Password", SUB_PW)
fill("Repeat Password", SUB_PW)
choose("Restrict Access To", "EMEA (Group)")
press("Add Account")
check("The account was added." in text(), "the manager adds a sub-user in its scope")
check("mgr" in text(), "the manager is the new account's manager")
driver.get(BASE + "/admin/accounts/sub2")
check("CET" in main_text(), "the audit rows are in the manager's time zone (Europe/Paris)")
driver.get(BASE + "/admin/audit")
check("account.create" in main_text() and "sub2" in main_text(), "the manager reads its own audit records")
check("Times are in Europe/Paris" in text(), "the audit log says the manager's time zone")
driver.get(BASE + "/admin/outbox")
check("The outbox is for super admins." in text(), "the outbox is refused to a manager, in words")
driver.get(BASE + "/admin/accounts/sub")
field("User Name")
check("Save" in text(), "the manager may edit its sub-user")
sign_out()

# --- a Report Reader ------------------------------------------------------------
sign_in("reader", READER_PW)
listed = main_text()
for user in ["admin", "mgr", "hidden", "jyoung"]:
    check(user in listed, f"the Report Reader sees {user}")
check("Add" not in [a.text for a in driver.find_elements(By.TAG_NAME, "a")], "no Add for a Report Reader")
driver.get(BASE + "/admin/accounts/hidden")
check("You may read this account, not change it." in text(), "the Report Reader reads an entry")
check(not driver.find_elements(By.XPATH, "//button[normalize-space()='Save']"), "no Save for a Report Reader")
shot("entry-read-only")
driver.get(BASE + "/admin/accounts/new")
check("may not add accounts" in text(), "the Add form says a Report Reader may not add")
fill("User Name", "sneaky")
fill("Password", SUB_PW)
fill("Repeat Password", SUB_PW)
press("Add Account")
check("read only" in text(), "the core refuses a Report Reader's Add, in words")
driver.get(BASE + "/admin/groups")
check("Sales" in text(), "the Report Reader sees the tree")
check("You may read the tree, not change it." in text(), "the Report Reader is offered no change of the tree")
shot("groups-read-only")
sign_out()

driver.quit()
print("screenshots:", " ".join(shots))
