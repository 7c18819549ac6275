from playwright.sync_api import Page, expect


def test_agent_signs_in_and_sees_the_home_page(sign_in, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page: Page = sign_in("agent")
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    expect(page.get_by_test_id("user-menu")).to_contain_text("客服专员")
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"{live_server}/login")


def test_wrong_password_is_refused(sign_in, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page: Page = sign_in("agent", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/login?next=/")
