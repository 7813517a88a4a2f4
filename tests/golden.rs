//! Golden files a person can review: one test per catalogue recipe × target,
//! the Debian rendering in full, the RHEL one as a diff against it (only where
//! there is one), and the shell library once, in its own file: in a script,
//! each library function it includes appears as a one-line reference.

mod common;

use initkit::render::{Flavor, Options, Target, render, shell};

/// The artifacts as one text, with library functions replaced by references.
fn text(recipe: &str, target: Target, flavor: Flavor) -> String {
    let recipe = common::catalogue().into_iter().find(|r| r.name == recipe).expect("a catalogue recipe");
    let options = Options { flavor, ..Options::default() };
    let library = shell::library();
    let mut out = String::new();
    for a in render(&recipe, target, &options).expect("catalogue recipes render") {
        let mut content = a.content.clone();
        for (name, body) in &library {
            content = content.replace(body.as_str(), &format!("# [library: {name}]\n"));
        }
        out.push_str(&format!("==> {} (mode {:o}) <==\n{content}\n", a.path, a.mode));
    }
    out
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

fn check(recipe: &str, target: Target) {
    let debian = text(recipe, target, Flavor::Debian);
    let rhel = text(recipe, target, Flavor::Rhel);
    settings().bind(|| {
        insta::assert_snapshot!(format!("{recipe}-{}", target.name()), debian);
        if rhel != debian {
            let diff = similar::TextDiff::from_lines(&debian, &rhel).unified_diff().context_radius(1).to_string();
            insta::assert_snapshot!(format!("{recipe}-{}-rhel", target.name()), diff);
        }
    });
}

#[test]
fn the_shell_library() {
    let library: String = shell::library().into_iter().map(|(_, body)| body + "\n").collect();
    settings().bind(|| insta::assert_snapshot!("shell-library", library));
}

macro_rules! golden {
    ($($test:ident: $recipe:literal, $target:ident;)*) => {
        $(
            #[test]
            fn $test() {
                check($recipe, Target::$target);
            }
        )*
    };
}

golden! {
    haproxy_systemd: "haproxy", Systemd;
    haproxy_sysv: "haproxy", Sysv;
    haproxy_runit: "haproxy", Runit;
    haproxy_s6: "haproxy", S6;
    haproxy_daemontools: "haproxy", Daemontools;
    haproxy_supervisord: "haproxy", Supervisord;
    haproxy_openrc: "haproxy", Openrc;
    haproxy_upstart: "haproxy", Upstart;
    haproxy_launchd: "haproxy", Launchd;
    mariadb_systemd: "mariadb", Systemd;
    mariadb_sysv: "mariadb", Sysv;
    mariadb_runit: "mariadb", Runit;
    mariadb_s6: "mariadb", S6;
    mariadb_daemontools: "mariadb", Daemontools;
    mariadb_supervisord: "mariadb", Supervisord;
    mariadb_openrc: "mariadb", Openrc;
    mariadb_upstart: "mariadb", Upstart;
    mariadb_launchd: "mariadb", Launchd;
    memcached_systemd: "memcached", Systemd;
    memcached_sysv: "memcached", Sysv;
    memcached_runit: "memcached", Runit;
    memcached_s6: "memcached", S6;
    memcached_daemontools: "memcached", Daemontools;
    memcached_supervisord: "memcached", Supervisord;
    memcached_openrc: "memcached", Openrc;
    memcached_upstart: "memcached", Upstart;
    memcached_launchd: "memcached", Launchd;
    nginx_systemd: "nginx", Systemd;
    nginx_sysv: "nginx", Sysv;
    nginx_runit: "nginx", Runit;
    nginx_s6: "nginx", S6;
    nginx_daemontools: "nginx", Daemontools;
    nginx_supervisord: "nginx", Supervisord;
    nginx_openrc: "nginx", Openrc;
    nginx_upstart: "nginx", Upstart;
    nginx_launchd: "nginx", Launchd;
    php_fpm_systemd: "php-fpm", Systemd;
    php_fpm_sysv: "php-fpm", Sysv;
    php_fpm_runit: "php-fpm", Runit;
    php_fpm_s6: "php-fpm", S6;
    php_fpm_daemontools: "php-fpm", Daemontools;
    php_fpm_supervisord: "php-fpm", Supervisord;
    php_fpm_openrc: "php-fpm", Openrc;
    php_fpm_upstart: "php-fpm", Upstart;
    php_fpm_launchd: "php-fpm", Launchd;
    postgresql_systemd: "postgresql", Systemd;
    postgresql_sysv: "postgresql", Sysv;
    postgresql_runit: "postgresql", Runit;
    postgresql_s6: "postgresql", S6;
    postgresql_daemontools: "postgresql", Daemontools;
    postgresql_supervisord: "postgresql", Supervisord;
    postgresql_openrc: "postgresql", Openrc;
    postgresql_upstart: "postgresql", Upstart;
    postgresql_launchd: "postgresql", Launchd;
    redis_systemd: "redis", Systemd;
    redis_sysv: "redis", Sysv;
    redis_runit: "redis", Runit;
    redis_s6: "redis", S6;
    redis_daemontools: "redis", Daemontools;
    redis_supervisord: "redis", Supervisord;
    redis_openrc: "redis", Openrc;
    redis_upstart: "redis", Upstart;
    redis_launchd: "redis", Launchd;
}
