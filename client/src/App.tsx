import { Navigate, Route, Router, type RouteSectionProps, useLocation } from '@solidjs/router';
import { type JSX, Match, Switch } from 'solid-js';
import { ErrorMessage } from './components/ErrorMessage.tsx';
import { Layout } from './components/Layout.tsx';
import { me } from './me.ts';
import { Account } from './pages/Account.tsx';
import { ChangePassword } from './pages/ChangePassword.tsx';
import { Companies } from './pages/Companies.tsx';
import { History } from './pages/History.tsx';
import { Insight } from './pages/Insight.tsx';
import { Jobs } from './pages/Jobs.tsx';
import { Project } from './pages/Project.tsx';
import { Projects } from './pages/Projects.tsx';
import { Session } from './pages/Session.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { Upload } from './pages/Upload.tsx';
import { Users } from './pages/Users.tsx';

/** Signed-in pages: nobody signed in → sign in; a password that must change → change it first. */
function SignedIn(props: { children?: JSX.Element }) {
  const location = useLocation();
  return (
    <Switch>
      <Match when={me.error}>
        <div class="centered">
          <ErrorMessage error={me.error} />
        </div>
      </Match>
      <Match when={me() === null}>
        <Navigate href={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`} />
      </Match>
      <Match when={me()?.mustChangePassword}>
        <Navigate href="/change-password" />
      </Match>
      <Match when={me()}>
        <Layout>{props.children}</Layout>
      </Match>
    </Switch>
  );
}

function Shell(props: RouteSectionProps) {
  return <>{props.children}</>;
}

export function App() {
  return (
    <Router root={Shell}>
      <Route path="/sign-in" component={SignIn} />
      <Route path="/change-password" component={ChangePassword} />
      <Route path="/" component={(props: RouteSectionProps) => <SignedIn>{props.children}</SignedIn>}>
        <Route path="/" component={Projects} />
        <Route path="/projects/:projectId" component={Project} />
        <Route path="/projects/:projectId/insight" component={Insight} />
        <Route path="/projects/:projectId/cycles/:cycleId/upload" component={Upload} />
        <Route path="/history" component={History} />
        <Route path="/sessions/:sessionId" component={Session} />
        <Route path="/users" component={Users} />
        <Route path="/jobs" component={Jobs} />
        <Route path="/companies" component={Companies} />
        <Route path="/account" component={Account} />
        <Route path="*" component={() => <p>This page does not exist.</p>} />
      </Route>
    </Router>
  );
}
