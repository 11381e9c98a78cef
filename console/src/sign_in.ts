// The view shown when there is no session (GET /v2/gen-ai/me answered 401). With development
// sign-in enabled on the server, one button per development user; otherwise what the
// deployment's login must do.

import type { ConsoleApi, DevSignInUser } from "./api";
import { button, el } from "./dom";
import { describeError } from "./errors";

export interface SignInOptions {
  root: HTMLElement;
  api: Pick<ConsoleApi, "devSignInUsers" | "devSignIn">;
  onSignedIn: () => void;
}

export function signInLabel(user: DevSignInUser): string {
  return `Sign in as ${user.name} (${user.role})`;
}

export async function showSignIn(options: SignInOptions): Promise<void> {
  const { root, api } = options;
  const body = el(
    "div",
    { class: "sign-in-body" },
    el("p", {}, "Checking how to sign in…"),
  );
  root.replaceChildren(
    el(
      "header",
      { class: "topbar" },
      el("span", { class: "brand" }, "keyledger"),
    ),
    el(
      "main",
      { class: "page page-narrow" },
      el("h1", {}, "Manage Model Access Keys"),
      el(
        "section",
        { class: "card", "aria-labelledby": "sign-in-title" },
        el("h2", { id: "sign-in-title" }, "Sign in"),
        body,
      ),
    ),
  );
  let users: DevSignInUser[] | null;
  try {
    users = await api.devSignInUsers();
  } catch (caught) {
    const retry = button(
      "Try again",
      () => {
        void showSignIn(options);
      },
      { class: "button" },
    );
    body.replaceChildren(
      el(
        "p",
        { class: "error-message", role: "alert" },
        describeError(caught, "sign-in"),
      ),
      retry,
    );
    return;
  }
  if (users === null) {
    body.replaceChildren(
      el(
        "p",
        {},
        "You are not signed in. This deployment's login must set your session (the keyledger_session cookie) before this page can be used: sign in through your platform's login, then reload this page.",
      ),
    );
    return;
  }
  const error = el("p", { class: "error-message", role: "alert" });
  error.hidden = true;
  const buttons = users.map((user) =>
    button(
      signInLabel(user),
      (event) => {
        const target = event.currentTarget;
        void signIn(user, target instanceof HTMLButtonElement ? target : null);
      },
      { class: "button sign-in-button" },
    ),
  );
  async function signIn(
    user: DevSignInUser,
    clicked: HTMLButtonElement | null,
  ): Promise<void> {
    error.hidden = true;
    for (const b of buttons) b.disabled = true;
    try {
      await api.devSignIn(user.user_id);
      options.onSignedIn();
    } catch (caught) {
      for (const b of buttons) b.disabled = false;
      error.textContent = describeError(caught, "sign-in");
      error.hidden = false;
      clicked?.focus();
    }
  }
  body.replaceChildren(
    el(
      "p",
      {},
      "You are not signed in. This server has development sign-in enabled: choose a user.",
    ),
    el("div", { class: "sign-in-buttons" }, buttons),
    error,
  );
  buttons[0]?.focus();
}
