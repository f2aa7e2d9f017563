"""JupyterHub's configuration for one class of Python Modules, Hands-On.

Started by ``course-hub run NAME`` (as root: the hub starts each user's server
as that user), which sets ``COURSE_HUB=NAME``; every value comes from
``/etc/python-modules-hands-on/NAME/hub.toml`` (``course-hub install``).

* who: PAM (the machine's own accounts and passwords); the instructor, and the
  members of the students' group; nobody else;
* where: each user's own JupyterLab server, a local process running as that
  user in their home (LocalProcessSpawner), from the hub's shared environment;
* what: the student or instructor Jupyter set-up (course_hub.jupyter), by role;
  a server does not start for a user whose home other users can read (the
  lessons fetched there hold that student's answers).
"""

import os
import pwd
import stat

from tornado import web

from course_hub.instance import Instance

hub = Instance.load(os.environ["COURSE_HUB"])
c = get_config()  # noqa: F821  (provided by traitlets when JupyterHub loads this file)

# --- network: the proxy is public; the hub and the proxy's API stay on loopback
c.JupyterHub.ip = hub.ip
c.JupyterHub.port = hub.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = hub.hub_port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [str(hub.proxy_command)]
c.ConfigurableHTTPProxy.pid_file = str(hub.state / "jupyterhub-proxy.pid")
if hub.ssl_cert:
    c.JupyterHub.ssl_cert = hub.ssl_cert
    c.JupyterHub.ssl_key = hub.ssl_key

# --- the hub's own files: root's, in the instance's state folder (0700)
c.JupyterHub.db_url = f"sqlite:///{hub.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hub.state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(hub.state / "jupyterhub.pid")

# --- who may log in
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = {hub.instructor}
c.PAMAuthenticator.allowed_groups = {hub.students_group}

# --- each user's server
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(hub.venv / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.env_keep = ["LANG", "LC_ALL"]  # nothing else from root's environment
c.Spawner.environment = {"PATH": f"{hub.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"}
# JupyterLab's first start on a busy machine (2 cores, several users at once).
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# Stop every user's server when the hub stops (JupyterHub's default, said aloud).
c.JupyterHub.cleanup_servers = True


def _pre_spawn(spawner):
    """Pick the user's Jupyter set-up by role; refuse a home others can read."""
    name = spawner.user.name
    role = hub.role(name)
    if role is None:
        raise web.HTTPError(403, f"{name} is neither a student nor the instructor of this class")
    user = pwd.getpwnam(name)
    st = os.lstat(user.pw_dir)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != user.pw_uid or st.st_mode & 0o077:
        raise web.HTTPError(
            403,
            f"{user.pw_dir} must be {name}'s own folder with mode 0700 (it is "
            f"{stat.filemode(st.st_mode)}): other users could read your work there. "
            "Ask the administrator to run: chmod 700 " + user.pw_dir,
        )
    spawner.environment["JUPYTER_CONFIG_PATH"] = str(hub.jupyter_config(role))
    spawner.log.info("starting %s's server with the %s set-up", name, role)


c.Spawner.pre_spawn_hook = _pre_spawn
