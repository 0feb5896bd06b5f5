//! `proxmox-sdk-codegen` as a plain binary (what `make regen` runs without Python).

fn main() {
    std::process::exit(proxmox_sdk::codegen::main_with_args(std::env::args_os()));
}
