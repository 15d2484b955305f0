fn main() {
    println!("meshscope");
}
